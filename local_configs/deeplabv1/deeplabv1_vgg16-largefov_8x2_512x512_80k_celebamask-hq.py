_base_ = [
    '../_base_/models/deeplabv1_vgg16-largefov.py',
    '../_base_/datasets/celebamask_hq.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_80k.py'
]
# The recipe of the PyTorch port (CoinCheung/Deeplab-Large-FOV, batch 16):
# SGD lr 1e-3, momentum 0.9, weight decay 5e-4; exponential warm-up from
# 1e-6 over 1000 iterations, then poly 0.9 down to 0; online hard example
# mining keeping pixels whose true-class probability is under 0.7, at least
# 1/16 of each crop. mmseg's sampler averages the kept pixels' loss over all
# pixels, the port over the kept ones only.
model = dict(
    flip_pairs={{_base_.flip_pairs}},
    decode_head=dict(
        sampler=dict(type='OHEMPixelSampler', thresh=0.7,
                     min_kept=512 * 512 // 16)))
optimizer = dict(lr=1e-3, momentum=0.9, weight_decay=5e-4)
lr_config = dict(
    policy='poly',
    power=0.9,
    min_lr=0.0,
    by_epoch=False,
    warmup='exp',
    warmup_iters=1000,
    warmup_ratio=1e-3)
# num_gpus: 8 -> batch_size: 16
data = dict(samples_per_gpu=2)
