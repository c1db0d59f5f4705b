# EHANet recipe: SGD(1e-3, momentum 0.9, wd 1e-5), per-iteration linear
# warm-up over 500 iterations from lr/3, then poly 0.9 to 0, for 200 epochs.
# (mmcv's warm-up scales the poly curve of all iterations; the original runs
# poly over the iterations after the warm-up, a negligible difference.)
optimizer = dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=1e-5)
optimizer_config = dict()
lr_config = dict(
    policy='poly',
    power=0.9,
    min_lr=0.0,
    by_epoch=False,
    warmup='linear',
    warmup_iters=500,
    warmup_ratio=1.0 / 3)
runner = dict(type='EpochBasedRunner', max_epochs=200)
checkpoint_config = dict(by_epoch=True, interval=10, max_keep_ckpts=3)
evaluation = dict(
    interval=5, metric=['mIoU', 'mF1'], pre_eval=True, save_best='mIoU')
