_base_ = [
    '../_base_/models/bisenetv2.py', '../_base_/datasets/celebamask_hq.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_160k.py'
]
# mmseg's recipe: 4 GPUs x 4 images, lr 0.05, 1k-iter warm-up, no
# pretraining.
model = dict(flip_pairs={{_base_.flip_pairs}})
lr_config = dict(warmup='linear', warmup_iters=1000)
optimizer = dict(lr=0.05)
data = dict(samples_per_gpu=4, workers_per_gpu=4)
