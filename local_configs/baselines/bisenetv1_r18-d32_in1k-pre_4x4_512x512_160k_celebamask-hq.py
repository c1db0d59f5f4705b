_base_ = [
    '../_base_/models/bisenetv1_r18-d32.py',
    '../_base_/datasets/celebamask_hq.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_160k.py'
]
# mmseg's recipe (4 GPUs x 4 images, lr 0.025, 1k-iter warm-up). The
# context path is a V1c ResNet-18 so that the V1c ImageNet checkpoint loads.
model = dict(
    flip_pairs={{_base_.flip_pairs}},
    backbone=dict(
        backbone_cfg=dict(
            type='ResNetV1c',
            init_cfg=dict(
                type='Pretrained', checkpoint='open-mmlab://resnet18_v1c'))))
lr_config = dict(warmup='linear', warmup_iters=1000)
optimizer = dict(lr=0.025)
data = dict(samples_per_gpu=4, workers_per_gpu=4)
