# SegNeXt MSCAN-L on CelebAMask-HQ (19 classes), 8 GPUs x 4 images.
_base_ = [
    '../../_base_/models/segnext_mscan-l.py',
    '../../_base_/datasets/celebamask_hq.py',
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_160k_adamw.py'
]
model = dict(flip_pairs={{_base_.flip_pairs}})
data = dict(samples_per_gpu=4)
