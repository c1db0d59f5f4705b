_base_ = [
    '../_base_/models/spnet_r50-d8.py', '../_base_/datasets/celebamask_hq.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
# SPNet's ADE20K recipe for ResNet-50 (config/ade20k/ade20k_spnet50.yaml):
# batch 16 (8 GPUs x 2), SGD lr 0.01, momentum 0.9, weight decay 1e-4, poly
# 0.9 down to 0, cross-entropy with the FCN auxiliary head at 0.4, ImageNet
# initialisation. 80k iterations are ~53 CelebAMask-HQ epochs at batch 16
# (the original ran 120 ADE20K epochs).
model = dict(flip_pairs={{_base_.flip_pairs}})
data = dict(samples_per_gpu=2)
optimizer = dict(lr=0.01, weight_decay=0.0001)
lr_config = dict(min_lr=0.0)
