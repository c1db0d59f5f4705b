# mmseg's bisenetv2.py for 19 face classes; leaf configs set flip_pairs.
norm_cfg = dict(type='SyncBN', requires_grad=True)
head = dict(
    type='FCNHead',
    concat_input=False,
    num_classes=19,
    norm_cfg=norm_cfg,
    align_corners=False,
    loss_decode=dict(
        type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0))
model = dict(
    type='FaceEncoderDecoder',
    pretrained=None,
    backbone=dict(
        type='BiSeNetV2',
        detail_channels=(64, 64, 128),
        semantic_channels=(16, 32, 64, 128),
        semantic_expansion_ratio=6,
        bga_channels=128,
        out_indices=(0, 1, 2, 3, 4),
        init_cfg=None,
        align_corners=False),
    decode_head=dict(
        head,
        in_channels=128,
        in_index=0,
        channels=1024,
        num_convs=1,
        dropout_ratio=0.1),
    auxiliary_head=[
        dict(head, in_channels=16, channels=16, num_convs=2, in_index=1),
        dict(head, in_channels=32, channels=64, num_convs=2, in_index=2),
        dict(head, in_channels=64, channels=256, num_convs=2, in_index=3),
        dict(head, in_channels=128, channels=1024, num_convs=2, in_index=4),
    ],
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
