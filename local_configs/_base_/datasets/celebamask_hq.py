# CelebAMask-HQ converted by tools/convert_datasets/celebamask_hq.py: 512x512
# images and labels, official CelebA split (24,183 / 2,993 / 2,824).
# Edge-supervised models insert dict(type='GenerateFaceEdge', mode=...) after
# Pad, use FaceFormatBundle instead of DefaultFormatBundle and collect
# 'gt_edge' too (see mmseg_face/datasets/pipelines/edge.py).
dataset_type = 'CelebAMaskHQDataset'
data_root = 'data/celebamask_hq'
flip_pairs = [(4, 5), (6, 7), (8, 9)]
# Images are CelebA-HQ's oriented crops: FaceParser.parse_wild crops faces in
# the wild the same way (mmseg_face/apis/face_alignment.py).
face_alignment = 'celeba_hq'
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
img_scale = (512, 512)
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=img_scale, ratio_range=(0.5, 2.0)),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='FaceRandomFlip', prob=0.5, flip_pairs=flip_pairs),
    dict(type='PhotoMetricDistortion'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiScaleFlipAug',
        img_scale=img_scale,
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
    samples_per_gpu=8,
    workers_per_gpu=4,
    train=dict(
        type=dataset_type,
        data_root=data_root,
        img_dir='images',
        ann_dir='labels',
        split='train.txt',
        pipeline=train_pipeline),
    val=dict(
        type=dataset_type,
        data_root=data_root,
        img_dir='images',
        ann_dir='labels',
        split='val.txt',
        pipeline=test_pipeline),
    test=dict(
        type=dataset_type,
        data_root=data_root,
        img_dir='images',
        ann_dir='labels',
        split='test.txt',
        pipeline=test_pipeline))
