_base_ = [
    '../_base_/models/sfnet_r18.py', '../_base_/datasets/celebamask_hq.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
# SFNet's recipe: SGD lr 0.01, momentum 0.9, weight decay 5e-4, poly 0.9
# (schedule_80k), ImageNet-pretrained ResNet-18.
model = dict(flip_pairs={{_base_.flip_pairs}})
