_base_ = [
    '../_base_/models/farl_vit-b16_uperhead.py',
    '../_base_/datasets/celebamask_hq.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_80k.py'
]
# Runs facer's farl/celebm/448 (face_parsing.farl.celebm.main_ema_181500_jit.pt)
# after tools/model_converters/farl.py, which reorders its outputs from
# FaRL's class order to the official one. Faces in the wild are cut as facer
# does for it (the CelebA-HQ quad from five points, a float bilinear warp,
# logits pasted back): alignment preset facer_celebm.
face_alignment = 'facer_celebm'
crop_size = (448, 448)
model = dict(flip_pairs={{_base_.flip_pairs}})
# facer feeds RGB in [0, 1] and normalises inside the network with CLIP's
# mean/std; these are the same on the 0-255 scale.
img_norm_cfg = dict(
    mean=[122.7709383, 116.7460125, 104.09373615],
    std=[68.5005327, 66.6321579, 70.32316305],
    to_rgb=True)
# FaRL's training: random similarity jitter of the aligned crop (rotation
# sigma 0.314 rad, scale sigma 0.1), grey / gamma / blur colour noise;
# approximated with mmseg's random scale, crop and L/R-aware flip.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=crop_size, ratio_range=(0.75, 1.5)),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='FaceRandomFlip', prob=0.5, flip_pairs={{_base_.flip_pairs}}),
    dict(type='PhotoMetricDistortion'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
# The network sees 448 x 448, as facer's warp makes it.
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
    samples_per_gpu=5,
    train=dict(pipeline=train_pipeline),
    val=dict(pipeline=test_pipeline),
    test=dict(pipeline=test_pipeline))
# FaRL's refine_backbone optimiser: AdamW 1e-3 (weight decay 1e-5), the
# backbone at a tenth of it.
optimizer = dict(
    _delete_=True,
    type='AdamW',
    lr=1e-3,
    betas=(0.9, 0.999),
    weight_decay=1e-5,
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=0.1))))
