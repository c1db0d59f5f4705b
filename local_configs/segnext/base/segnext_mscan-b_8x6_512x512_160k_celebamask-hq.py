# SegNeXt MSCAN-B on CelebAMask-HQ (19 classes), 8 GPUs x 6 images.
_base_ = [
    '../../_base_/models/segnext_mscan-b.py',
    '../../_base_/datasets/celebamask_hq.py',
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_160k_adamw.py'
]
model = dict(flip_pairs={{_base_.flip_pairs}})
data = dict(samples_per_gpu=6)
