# SFNet-Lite-STDC1 as the official AlignedSTDC1_SFV2_spatial_atten
# (lxtGH/SFSegNets): STDC1 (mmseg's STDCNet keeping its 1/4 output) + the V2
# head (PPM on 1/32, one gated dual-flow alignment onto 1/4, the 1/16
# lateral concatenated), align_corners=True, OHEM cross-entropy (0.7, 100000
# pixels). The official's deep-supervision branch and the backbone's
# ImageNet classifier are built but never used, so they are left out. Leaf
# configs set num_classes and flip_pairs.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='FaceEncoderDecoder',
    backbone=dict(
        type='STDCNetAllLevels',
        stdc_type='STDCNet1',
        in_channels=3,
        channels=(32, 64, 256, 512, 1024),
        bottleneck_type='cat',
        num_convs=4,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU'),
        with_final_conv=False,
        # mmseg's conversion of the STDC authors' ImageNet weights.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/'
            'pretrain/stdc/stdc1_20220308-5368626c.pth')),
    decode_head=dict(
        type='SFNetLiteHead',
        in_channels=[64, 512, 1024],
        in_index=[1, 3, 4],
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
