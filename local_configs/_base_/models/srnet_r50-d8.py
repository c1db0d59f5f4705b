# SR-Net R50-D8 as lxtGH/SFSegNets network/srnet.py (SRNet_r50), for 19 face
# classes; leaf configs set flip_pairs. The original upsamples both outputs
# bilinearly with align_corners=True, hence align_corners=True here.
norm_cfg = dict(type='SyncBN', requires_grad=True)
# The original initialises every Conv2d of both heads with
# kaiming_normal_ (fan_in, gain sqrt(2)) and zero bias.
head_init_cfg = dict(type='Kaiming', layer='Conv2d', mode='fan_in', bias=0)
model = dict(
    type='FaceEncoderDecoder',
    backbone=dict(
        # SFSegNets' resnet_d: deep stem 64-64-128; its variant 'D' dilates
        # every block of layer3/4 by 2/4 (no contracted first block).
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        deep_stem=True,
        stem_channels=128,
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        contract_dilation=False,
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        # SFSegNets' pretrained_models/resnet50-deep.pth converted by
        # tools/model_converters/deep_stem_resnet.py.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='pretrain/resnet50_deepstem128_imagenet.pth')),
    decode_head=dict(
        type='SRHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        reason_channels=256,
        node_num=32,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=True,
        # OhemWithAux(thresh=0.7, min_kept=10000) of SFSegNets' loss.py, as
        # mmseg's sampler; see the leaf config for how the mean differs.
        sampler=dict(type='OHEMPixelSampler', thresh=0.7, min_kept=10000),
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True),
        init_cfg=head_init_cfg),
    auxiliary_head=dict(
        type='AuxConvHead',
        in_channels=1024,
        in_index=2,
        channels=256,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=True,
        sampler=dict(type='OHEMPixelSampler', thresh=0.7, min_kept=10000),
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4,
            avg_non_ignore=True),
        init_cfg=head_init_cfg),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
