_base_ = [
    '../_base_/models/ann_r50-d8.py', '../_base_/datasets/celebamask_hq.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
model = dict(flip_pairs={{_base_.flip_pairs}})
