_base_ = [
    '../_base_/models/parsenet.py', '../_base_/datasets/celebamask_hq.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
# GPEN/PSFR-GAN ParseNet: inputs scaled to [-1, 1] (mean = std = 0.5),
# Adam 2e-4, betas (0.9, 0.999), batch 8 on one GPU, constant learning rate.
# PSFR-GAN trained on synthetically degraded inputs without flips; this
# config uses the plain face-parsing augmentation (random scale, crop,
# L/R-aware flip, photometric distortion) instead.
model = dict(flip_pairs={{_base_.flip_pairs}})
img_norm_cfg = dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5],
                    to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale={{_base_.img_scale}},
         ratio_range=(0.5, 2.0)),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}},
         cat_max_ratio=0.75),
    dict(type='FaceRandomFlip', prob=0.5, flip_pairs={{_base_.flip_pairs}}),
    dict(type='PhotoMetricDistortion'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size={{_base_.crop_size}}, pad_val=0, seg_pad_val=255),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiScaleFlipAug',
        img_scale={{_base_.img_scale}},
        flip=False,
        transforms=[
            dict(type='Resize', keep_ratio=True),
            # ParseNet needs sides divisible by 16.
            dict(type='ResizeToMultiple', size_divisor=16),
            dict(type='RandomFlip'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img']),
        ])
]
data = dict(
    samples_per_gpu=8,
    train=dict(pipeline=train_pipeline),
    val=dict(pipeline=test_pipeline),
    test=dict(pipeline=test_pipeline))
optimizer = dict(
    _delete_=True, type='Adam', lr=2e-4, betas=(0.9, 0.999), weight_decay=0)
lr_config = dict(_delete_=True, policy='fixed', by_epoch=False)
