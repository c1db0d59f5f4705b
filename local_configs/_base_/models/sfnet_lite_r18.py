# SFNet-Lite-R18 as the official DeepR18_SFV2_deeply_dsn_FA_Atten
# (lxtGH/SFSegNets): SFNet's deep-stem ResNet-18 + the V2 head (PPM on 1/32,
# one gated dual-flow alignment onto 1/4, the 1/16 lateral concatenated),
# align_corners=True, OHEM cross-entropy (0.7, 100000 pixels). The
# official's deep-supervision branch is built but never used, so it is left
# out (no auxiliary loss). Leaf configs set num_classes and flip_pairs.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='FaceEncoderDecoder',
    backbone=dict(
        type='Conv2DilatedResNetV1c',
        depth=18,
        stem_channels=128,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 2, 4),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        # The official ImageNet weights (resnet18-deep-inplane128.pth) with
        # keys renamed by tools/model_converters/sfnet_resnet.py.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='pretrained/resnet18-deep-inplane128_mmseg.pth')),
    decode_head=dict(
        type='SFNetLiteHead',
        in_channels=[64, 256, 512],
        in_index=[0, 2, 3],
        channels=128,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=True,
        # The official keeps at least 100,000 pixels per GPU batch of 2;
        # mmseg's min_kept counts per image (it keeps min_kept x batch).
        # mmseg averages over all pixels, the official over the kept ones.
        sampler=dict(type='OHEMPixelSampler', thresh=0.7, min_kept=50000),
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
