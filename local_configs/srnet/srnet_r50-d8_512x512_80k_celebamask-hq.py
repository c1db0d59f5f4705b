_base_ = [
    '../_base_/models/srnet_r50-d8.py', '../_base_/datasets/celebamask_hq.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
# SFSegNets has no SR-Net script; its Cityscapes recipe (SGD lr 0.01,
# momentum 0.9, weight decay 5e-4, poly 0.9; --ohem --aux: OHEM 0.7 /
# 10,000 pixels, aux weight 0.4) over 80k iterations (schedule_80k).
# The OHEM mean differs slightly: the original averages the cross-entropy
# over the kept pixels, mmseg's sampler zero-weights the others and
# avg_non_ignore averages over all labelled pixels.
model = dict(flip_pairs={{_base_.flip_pairs}})
