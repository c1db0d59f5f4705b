# SFNet-R18: ResNet-18 (deep stem) + SFNet decoder (PPM + flow-aligned FPN,
# 128 channels), as SFNet's DeepR18_SF_deeply. Plain BN, because SyncBN
# needs CUDA and this model is also trained on CPU; set SyncBN for
# multi-GPU runs.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='FaceEncoderDecoder',
    pretrained='open-mmlab://resnet18_v1c',
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='SFNetHead',
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        channels=128,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
