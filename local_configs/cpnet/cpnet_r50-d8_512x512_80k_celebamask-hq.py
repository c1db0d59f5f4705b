_base_ = [
    '../_base_/models/cpnet_r50-d8.py', '../_base_/datasets/celebamask_hq.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
# The official code is an mmseg 0.x plug-in with a model config only, so the
# recipe is mmseg's: SGD lr 0.01, momentum 0.9, weight decay 5e-4, poly 0.9
# over 80k iterations (schedule_80k), ImageNet ResNetV1c-50. Every training
# crop is padded to 512x512 (celebamask_hq.py), which keeps the 64x64 prior;
# test at 512x512, whole image.
model = dict(flip_pairs={{_base_.flip_pairs}})
