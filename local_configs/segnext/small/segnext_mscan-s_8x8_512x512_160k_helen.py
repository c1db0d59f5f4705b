# SegNeXt MSCAN-S on Helen (11 classes), 8 GPUs x 8 images.
_base_ = [
    '../../_base_/models/segnext_mscan-s.py',
    '../../_base_/datasets/helen.py',
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_160k_adamw.py'
]
model = dict(
    flip_pairs={{_base_.flip_pairs}}, decode_head=dict(num_classes=11))
data = dict(samples_per_gpu=8)
