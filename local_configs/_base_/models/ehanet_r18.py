# EHANet-R18 (FaceParseNet18 of JACKYLUO1991/FaceParsing) for 19 classes;
# leaf configs set num_classes and flip_pairs for their dataset.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='FaceEncoderDecoder',
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    decode_head=dict(
        type='EHANetHead',
        in_channels=(64, 128, 256, 512),
        in_index=(0, 1, 2, 3),
        channels=256,
        edge_channels=128,
        sgcb_dilations=((7, 9, 13), (3, 6, 9), (1, 2, 4)),
        dropout_ratio=0.0,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=True,
        loss_decode=dict(
            type='BoundaryWeightedCrossEntropyLoss',
            alpha=50.0,
            loss_name='loss_seg'),
        loss_aux=dict(
            type='CrossEntropyLoss',
            avg_non_ignore=True,
            loss_name='loss_aux'),
        loss_edge=dict(type='BalancedEdgeLoss', loss_name='loss_edge')),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
