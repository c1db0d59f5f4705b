# SPNet-R50 (strip pooling in the backbone and the head) for 19 face
# classes; leaf configs set flip_pairs. The backbone is the
# PyTorch-Encoding dilated ResNet (deep stem 64-64-128, OS8, layer4
# multi-grid 4/8/16); interpolation uses align_corners=True throughout, as
# SPNet's.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='FaceEncoderDecoder',
    backbone=dict(
        type='StripPoolingResNet',
        depth=50,
        stem_channels=128,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        # mmseg's multi_grid holds the dilations themselves, not factors.
        multi_grid=(4, 8, 16),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True,
        # SPNet's ImageNet weights (PyTorch-Encoding resnet50-25c4b509.pth,
        # the same conv1.0-6 / bn1 deep stem) converted by
        # tools/model_converters/deep_stem_resnet.py; the SPM gates are new
        # and start from their default initialisation.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='pretrain/resnet50_deepstem128_imagenet.pth')),
    decode_head=dict(
        type='SPHead',
        in_channels=2048,
        in_index=3,
        mpm_channels=1024,
        num_mpms=2,
        pool_sizes=(20, 12),
        channels=512,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=True,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=1024,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=True,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
