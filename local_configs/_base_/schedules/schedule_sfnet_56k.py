# SFNet's optimiser: SGD lr 0.01, momentum 0.9, weight decay 1e-4, poly
# decay with power 1.0 to 0. 300 Cityscapes epochs at batch 16 (8 GPUs x 2)
# are 56k iterations.
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)
optimizer_config = dict()
lr_config = dict(policy='poly', power=1.0, min_lr=0.0, by_epoch=False)
runner = dict(type='IterBasedRunner', max_iters=56000)
checkpoint_config = dict(by_epoch=False, interval=8000)
evaluation = dict(interval=8000, metric='mIoU', pre_eval=True)
