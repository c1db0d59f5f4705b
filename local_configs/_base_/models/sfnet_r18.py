# SFNet-R18 as the official DeepR18_SF_deeply (lxtGH/SFSegNets): deep-stem
# ResNet-18 (stem 64-64-128, conv2 of layer3/layer4 dilated 2/4, output
# stride 32) + SFNet decoder (PPM + flow-aligned FPN, 128 channels), every
# resize with align_corners=True, OHEM cross-entropy (0.7, 10000 pixels).
# Leaf configs set num_classes and flip_pairs for their dataset.
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
        type='SFNetHead',
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        channels=128,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=True,
        # The official keeps at least 10,000 pixels per GPU batch of 2;
        # mmseg's min_kept counts per image (it keeps min_kept x batch).
        # mmseg averages over all pixels, the official over the kept ones.
        sampler=dict(type='OHEMPixelSampler', thresh=0.7, min_kept=5000),
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
