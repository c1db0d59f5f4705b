# SegNeXt with MSCAN-L: 48,792,275 parameters with 19 classes.
_base_ = './segnext_mscan-b.py'
model = dict(
    backbone=dict(
        arch='l',
        init_cfg=dict(type='Pretrained',
                      checkpoint='pretrained/mscan_l.pth')),
    decode_head=dict(channels=1024, ham_channels=1024))
