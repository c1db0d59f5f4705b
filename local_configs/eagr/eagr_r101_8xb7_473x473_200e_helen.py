# EAGRNet on Helen, the tegusi/EAGRNet recipe: 473x473 crops with scale
# jitter and rotation, 7 images per GPU on 8 GPUs, SGD 1e-3 poly, 200 epochs.
_base_ = [
    '../_base_/models/eagr_r101.py', '../_base_/datasets/helen.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_eagr_200e.py'
]
model = dict(
    flip_pairs={{_base_.flip_pairs}}, decode_head=dict(num_classes=11))
# The original reads BGR images and normalises them with the RGB ImageNet
# statistics; keep that so its ImageNet weights see the same inputs.
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=False)
crop_size = (473, 473)
# The original warps each face into 473x473 with scale x[0.75, 1.25] and,
# with p=0.6, a rotation of N(0, 30) degrees clipped to +-60; here: rescale,
# uniform rotation, random crop and pad with the same border values. It never
# flips (the flag is unused); the L/R-aware flip is added here.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='Resize',
        img_scale=crop_size,
        ratio_range=(0.8, 1.0 / 0.75),
        keep_ratio=True),
    dict(type='RandomRotate', prob=0.6, degree=60, pad_val=0, seg_pad_val=255),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='FaceRandomFlip', prob=0.5, flip_pairs={{_base_.flip_pairs}}),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='GenerateFaceEdge', mode='eagr'),
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
            dict(type='Resize', keep_ratio=True),
            dict(type='RandomFlip'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img']),
        ])
]
data = dict(
    samples_per_gpu=7,
    workers_per_gpu=4,
    train=dict(pipeline=train_pipeline),
    val=dict(pipeline=test_pipeline),
    test=dict(pipeline=test_pipeline))
