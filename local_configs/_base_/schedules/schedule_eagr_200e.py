# EAGRNet recipe: SGD(1e-3, momentum 0.9, wd 5e-4), per-iteration poly 0.9
# without warm-up, 200 epochs (the single-GPU command of the README).
optimizer = dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4)
optimizer_config = dict()
lr_config = dict(policy='poly', power=0.9, min_lr=0.0, by_epoch=False)
runner = dict(type='EpochBasedRunner', max_epochs=200)
checkpoint_config = dict(by_epoch=True, interval=10, max_keep_ckpts=3)
evaluation = dict(
    interval=5, metric=['mIoU', 'mF1'], pre_eval=True, save_best='mF1',
    rule='greater')  # mmcv infers the rule from mIoU-like names only
