# EAGRNet (tegusi/EAGRNet) for 11 classes; leaf configs set num_classes and
# flip_pairs. InPlace-ABN becomes BN/SyncBN + LeakyReLU(0.01) in the head.
norm_cfg = dict(type='SyncBN', requires_grad=True)
act_cfg = dict(type='LeakyReLU', negative_slope=0.01)
model = dict(
    type='FaceEncoderDecoder',
    backbone=dict(
        type='ResNet',
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        deep_stem=True,
        stem_channels=128,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 1, 2),
        contract_dilation=False,
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        # CE2P's deep-stem ImageNet ResNet-101 (the original's
        # snapshots/resnet101-imagenet.pth) converted by
        # tools/model_converters/ce2p_resnet.py; torchvision's 7x7-stem
        # weights do not fit this stem.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='pretrain/resnet101_deepstem128_imagenet.pth')),
    decode_head=dict(
        type='EAGRHead',
        in_channels=(256, 512, 1024, 2048),
        in_index=(0, 1, 2, 3),
        channels=256,
        pool_scales=(1, 2, 3, 6),
        context_channels=512,
        edge_channels=256,
        graph_channels=(128, 64),
        node_grid=4,
        skip_channels=48,
        dropout_ratio=0.0,
        num_classes=11,
        norm_cfg=norm_cfg,
        act_cfg=act_cfg,
        align_corners=True,
        loss_decode=dict(
            type='CrossEntropyLoss',
            avg_non_ignore=True,
            loss_weight=1.0,
            loss_name='loss_seg'),
        loss_edge=dict(
            type='BalancedEdgeLoss', loss_weight=1.0, loss_name='loss_edge'),
        loss_edge_att=dict(
            type='EdgeAttentionCrossEntropyLoss',
            loss_weight=4.0,
            loss_name='loss_edge_att')),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
