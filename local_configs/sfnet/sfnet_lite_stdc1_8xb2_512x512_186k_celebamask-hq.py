# SFNet-Lite-STDC1 on CelebAMask-HQ, the official recipe adapted to faces: SGD
# lr 0.01, poly 1.0, batch 16 (8 GPUs x 2), scale 0.5-2.0 then a 512 crop
# (official 1024), L/R-aware flip and colour jitter. The official's
# class-uniform sampling and Gaussian blur have no counterpart here.
_base_ = [
    '../_base_/models/sfnet_lite_stdc1.py',
    '../_base_/datasets/celebamask_hq.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sfnet_186k.py',
]
model = dict(
    flip_pairs={{_base_.flip_pairs}}, decode_head=dict(num_classes=19))
data = dict(samples_per_gpu=2, workers_per_gpu=2)
