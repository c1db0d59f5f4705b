_base_ = [
    '../_base_/models/segformer_mlp_mit-b5.py',
    '../_base_/datasets/celebamask_hq.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_160k_adamw.py'
]
# Runs jonathandinu/face-parsing (Hugging Face hub) after
# tools/model_converters/segformer_faceparser.py, and fine-tunes it with
# SegFormer's recipe (AdamW 6e-5, head lr x10, 160k iterations of 8 GPUs x 2
# images, L/R-aware flip).
model = dict(flip_pairs={{_base_.flip_pairs}})
# The Hugging Face SegformerImageProcessor of the model: 512x512 bilinear
# resize ignoring aspect, antialiased when shrinking (torchvision's uint8
# kernel, which follows Pillow's filter: PillowResize), RGB, x/255 then
# ImageNet mean/std. Logits come out at 1/4 and are upsampled bilinearly with
# align_corners=False, as its post_process_semantic_segmentation does.
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
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
    workers_per_gpu=2,
    val=dict(pipeline=test_pipeline),
    test=dict(pipeline=test_pipeline))
