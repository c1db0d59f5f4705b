# GPEN's ParseNet (from PSFR-GAN): 21,303,254 parameters with 19 classes.
# Logits come out at full input resolution. ParseNetHead's restored-image
# layer gets no loss here (see its docstring), hence find_unused_parameters.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='FaceEncoderDecoder',
    pretrained=None,
    backbone=dict(
        type='ParseNet',
        in_channels=3,
        base_channels=64,
        channel_range=(32, 256),
        num_stages=4,
        num_res_blocks=10,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='LeakyReLU', negative_slope=0.2)),
    decode_head=dict(
        type='ParseNetHead',
        in_channels=64,
        channels=64,
        img_channels=3,
        dropout_ratio=0,
        num_classes=19,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
find_unused_parameters = True
