# EHANet-R18 on the generated CelebAMask-HQ sample that `make demo` writes
# (tools/demo.py): small faces, no ImageNet weights (nothing is downloaded),
# so a higher learning rate than the paper's fine-tuning recipe; 2 processes
# x 8 images.
_base_ = ['../ehanet/ehanet_r18_8xb2_512x512_200e_celebamask_hq.py']
data_root = 'work_dirs/demo/data/celebamask_hq'
crop_size = (128, 128)
model = dict(backbone=dict(init_cfg=None))
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=crop_size, ratio_range=(0.8, 1.2)),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='FaceRandomFlip', prob=0.5, flip_pairs={{_base_.flip_pairs}}),
    dict(type='PhotoMetricDistortion'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='GenerateFaceEdge', mode='ehanet'),
    dict(type='FaceFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg', 'gt_edge']),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiScaleFlipAug',
        img_scale=crop_size,
        flip=False,
        transforms=[
            dict(type='Resize', keep_ratio=False),
            dict(type='RandomFlip'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img']),
        ])
]
data = dict(
    samples_per_gpu=8,
    workers_per_gpu=1,
    train=dict(pipeline=train_pipeline, data_root=data_root),
    val=dict(pipeline=test_pipeline, data_root=data_root),
    test=dict(pipeline=test_pipeline, data_root=data_root))
optimizer = dict(
    _delete_=True, type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=1e-4)
lr_config = dict(
    _delete_=True,
    policy='poly',
    power=0.9,
    min_lr=1e-5,
    by_epoch=False,
    warmup='linear',
    warmup_iters=50,
    warmup_ratio=0.1)
runner = dict(_delete_=True, type='IterBasedRunner', max_iters=300)
checkpoint_config = dict(
    _delete_=True, by_epoch=False, interval=300, max_keep_ckpts=1)
evaluation = dict(interval=100, metric=['mIoU', 'mF1'], pre_eval=True)
log_config = dict(
    interval=10, hooks=[dict(type='TextLoggerHook', by_epoch=False)])
