# SegNeXt with MSCAN-S: 13,899,219 parameters with 19 classes.
_base_ = './segnext_mscan-t.py'
model = dict(
    backbone=dict(
        arch='s',
        init_cfg=dict(type='Pretrained',
                      checkpoint='pretrained/mscan_s.pth')),
    decode_head=dict(in_channels=[128, 320, 512]))
