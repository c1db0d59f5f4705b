_base_ = [
    '../_base_/models/face_bisenet_r18.py',
    '../_base_/datasets/celebamask_hq.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_80k.py'
]
# Runs face-parsing.PyTorch's 79999_iter.pth (= facexlib parsing_bisenet.pth)
# and yakhyo's resnet18.pt after tools/model_converters/face_bisenet.py, and
# retrains them with the original recipe: 448 crops of random scale 0.75-2,
# L/R-aware flip, colour jitter; SGD 0.01 (momentum 0.9, wd 5e-4), poly 0.9
# with 1k linear warm-up from 1e-5, 80k iterations of 16 images; OHEM on
# all three outputs (in the base model). The original trained on all of
# CelebAMask-HQ; this uses the official train split.
crop_size = (448, 448)
model = dict(
    flip_pairs={{_base_.flip_pairs}},
    backbone=dict(
        backbone_cfg=dict(
            init_cfg=dict(type='Pretrained',
                          checkpoint='torchvision://resnet18'))))
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(512, 512), ratio_range=(0.75, 2.0)),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='FaceRandomFlip', prob=0.5, flip_pairs={{_base_.flip_pairs}}),
    dict(type='PhotoMetricDistortion'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
# The original's inference: Pillow bilinear resize to 512x512 (aspect
# ignored), RGB, ImageNet mean/std.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiScaleFlipAug',
        img_scale=(512, 512),
        flip=False,
        transforms=[
            dict(type='PillowResize', interpolation='bilinear'),
            dict(type='RandomFlip'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img']),
        ])
]
data = dict(
    samples_per_gpu=2,
    train=dict(pipeline=train_pipeline),
    val=dict(pipeline=test_pipeline),
    test=dict(pipeline=test_pipeline))
lr_config = dict(
    warmup='linear', warmup_iters=1000, warmup_ratio=1e-3, min_lr=0)
