# EHANet-R18 on LaPa, the FaceParsing recipe: inputs force-resized to 512x512,
# L/R-aware flip, mild colour jitter, batch 16 (8 GPUs x 2), 200 epochs.
_base_ = [
    '../_base_/models/ehanet_r18.py', '../_base_/datasets/lapa.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_ehanet_200e.py'
]
model = dict(
    flip_pairs={{_base_.flip_pairs}}, decode_head=dict(num_classes=11))
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=crop_size, keep_ratio=False),
    dict(type='FaceRandomFlip', prob=0.5, flip_pairs={{_base_.flip_pairs}}),
    # Brightness/contrast/saturation x U(0.9, 1.1) and hue +-0.1 turn in the
    # original; mmseg's brightness is additive, so +-13 of ~128 grey levels.
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=13,
        contrast_range=(0.9, 1.1),
        saturation_range=(0.9, 1.1),
        hue_delta=18),
    dict(type='Normalize', **img_norm_cfg),
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
    samples_per_gpu=2,
    workers_per_gpu=2,
    train=dict(pipeline=train_pipeline),
    val=dict(pipeline=test_pipeline),
    test=dict(pipeline=test_pipeline))
