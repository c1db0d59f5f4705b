# SegNeXt with MSCAN-B: 27,569,107 parameters with 19 classes. The wider
# head uses the NMF rank the original leaves at its default, 64.
_base_ = './segnext_mscan-t.py'
model = dict(
    backbone=dict(
        arch='b',
        init_cfg=dict(type='Pretrained',
                      checkpoint='pretrained/mscan_b.pth')),
    decode_head=dict(
        in_channels=[128, 320, 512],
        channels=512,
        ham_channels=512,
        ham_kwargs=dict(MD_R=64)))
