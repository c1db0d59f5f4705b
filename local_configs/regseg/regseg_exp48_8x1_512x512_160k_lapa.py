_base_ = [
    '../_base_/models/regseg_exp48.py', '../_base_/datasets/lapa.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_160k.py'
]
# RegSeg's Cityscapes recipe (configs/cityscapes_1000epochs.yaml): batch 8
# (8 GPUs x 1), SGD lr 0.05, momentum 0.9, weight decay 1e-4 but none on
# BN, poly 0.9 down to 0 after a 3000-iteration linear warmup from 0.1x,
# plain cross-entropy, from scratch. 160k iterations (~70 epochs of
# LaPa at batch 8) stand in for its 1000 Cityscapes epochs.
model = dict(
    flip_pairs={{_base_.flip_pairs}}, decode_head=dict(num_classes=11))
data = dict(samples_per_gpu=1)
optimizer = dict(
    type='SGD',
    lr=0.05,
    momentum=0.9,
    weight_decay=0.0001,
    paramwise_cfg=dict(norm_decay_mult=0.0))
lr_config = dict(
    _delete_=True,
    policy='poly',
    power=0.9,
    min_lr=0.0,
    by_epoch=False,
    warmup='linear',
    warmup_iters=3000,
    warmup_ratio=0.1)
