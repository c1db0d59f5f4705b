# SegNeXt's recipe: AdamW 6e-5, head lr x10, no decay on norm weights,
# 1500-iteration linear warm-up from 1e-6 x lr, then linear (poly 1.0) decay
# to 0 over 160k iterations; evaluate and save every 10k, keeping the best.
optimizer = dict(
    type='AdamW',
    lr=6e-5,
    betas=(0.9, 0.999),
    weight_decay=0.01,
    paramwise_cfg=dict(
        custom_keys=dict(
            head=dict(lr_mult=10.0), norm=dict(decay_mult=0.0))))
optimizer_config = dict()
lr_config = dict(
    policy='poly',
    power=1.0,
    min_lr=0.0,
    by_epoch=False,
    warmup='linear',
    warmup_iters=1500,
    warmup_ratio=1e-6)
runner = dict(type='IterBasedRunner', max_iters=160000)
checkpoint_config = dict(by_epoch=False, interval=10000, max_keep_ckpts=5)
evaluation = dict(
    interval=10000, metric='mIoU', pre_eval=True, save_best='mIoU')
