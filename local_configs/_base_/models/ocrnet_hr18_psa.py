# HRNetV2-W18 with sequential polarized self-attention (PSA_s) in every
# BasicBlock, + OCR: the official PSA segmentation network (DeLightCMU/PSA,
# ocrnet.HRNet) at width 18, for 19 face classes. Its OCR block keeps the
# conv biases that mmseg's OCRNet drops (OCRAuxHead, BiasedOCRHead). The
# multi-scale attention of HRNet_Mscale is not part of it.
norm_cfg = dict(type='SyncBN', requires_grad=True)
hrnet_channels = [18, 36, 72, 144]
model = dict(
    type='CascadeEncoderDecoder',
    num_stages=2,
    backbone=dict(
        type='HRNetPSA',
        psa_layout='sequential',
        norm_cfg=norm_cfg,
        norm_eval=False,
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(4, ),
                num_channels=(64, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(4, 4),
                num_channels=(18, 36)),
            stage3=dict(
                num_modules=4,
                num_branches=3,
                block='BASIC',
                num_blocks=(4, 4, 4),
                num_channels=(18, 36, 72)),
            stage4=dict(
                num_modules=3,
                num_branches=4,
                block='BASIC',
                num_blocks=(4, 4, 4, 4),
                num_channels=hrnet_channels)),
        # As the official: every conv (the new PSA ones too) from
        # N(0, 0.001), then the ImageNet HRNet weights where they exist.
        init_cfg=[
            dict(type='Normal', std=0.001, layer='Conv2d'),
            dict(type='Pretrained', checkpoint='open-mmlab://msra/hrnetv2_w18')
        ]),
    decode_head=[
        dict(
            type='OCRAuxHead',
            in_channels=hrnet_channels,
            channels=sum(hrnet_channels),
            in_index=(0, 1, 2, 3),
            input_transform='resize_concat',
            dropout_ratio=-1,
            num_classes=19,
            norm_cfg=norm_cfg,
            align_corners=False,
            # LOSS.OCR_ALPHA of the official recipe.
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
        dict(
            type='BiasedOCRHead',
            in_channels=hrnet_channels,
            in_index=(0, 1, 2, 3),
            input_transform='resize_concat',
            channels=512,
            ocr_channels=256,
            # The official's Dropout2d(0.05) ends the OCR block, right before
            # the classifier: where BaseDecodeHead puts its dropout.
            dropout_ratio=0.05,
            num_classes=19,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    ],
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
