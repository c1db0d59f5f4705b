_base_ = './psa_s_hr18_ocr_512x512_80k_celebamask-hq.py'
# HRNetV2-W48 + PSA_s + OCR, the width of the paper's Cityscapes model.
hrnet_channels = [48, 96, 192, 384]
model = dict(
    backbone=dict(
        extra=dict(
            stage2=dict(num_channels=(48, 96)),
            stage3=dict(num_channels=(48, 96, 192)),
            stage4=dict(num_channels=hrnet_channels)),
        init_cfg=[
            dict(type='Normal', std=0.001, layer='Conv2d'),
            dict(type='Pretrained', checkpoint='open-mmlab://msra/hrnetv2_w48')
        ]),
    # Config lists replace, not merge: both heads in full.
    decode_head=[
        dict(
            type='OCRAuxHead',
            in_channels=hrnet_channels,
            channels=sum(hrnet_channels),
            in_index=(0, 1, 2, 3),
            input_transform='resize_concat',
            dropout_ratio=-1,
            num_classes=19,
            norm_cfg={{_base_.norm_cfg}},
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
        dict(
            type='BiasedOCRHead',
            in_channels=hrnet_channels,
            in_index=(0, 1, 2, 3),
            input_transform='resize_concat',
            channels=512,
            ocr_channels=256,
            dropout_ratio=0.05,
            num_classes=19,
            norm_cfg={{_base_.norm_cfg}},
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    ])
