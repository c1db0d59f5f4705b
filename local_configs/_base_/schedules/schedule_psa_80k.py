# The official PSA recipe (DeLightCMU/PSA train.py defaults and
# scripts/train_cityscapes_sota.yml): SGD lr 1e-2, momentum 0.9, weight
# decay 1e-4, poly decay with power 2 down to 0; 80k iterations here.
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)
optimizer_config = dict()
lr_config = dict(policy='poly', power=2.0, min_lr=0.0, by_epoch=False)
runner = dict(type='IterBasedRunner', max_iters=80000)
checkpoint_config = dict(by_epoch=False, interval=8000)
evaluation = dict(interval=8000, metric='mIoU', pre_eval=True)
