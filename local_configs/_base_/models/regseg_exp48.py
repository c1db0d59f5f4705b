# RegSeg (exp48 encoder + decoder26), the paper's model, for 19 face
# classes; leaf configs set flip_pairs. Trained from scratch, as the
# original (no ImageNet weights). No auxiliary head.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='FaceEncoderDecoder',
    pretrained=None,
    backbone=dict(
        type='RegSegNet',
        arch='exp48',
        out_indices=(0, 1, 2),
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='RegSegHead',
        in_channels=(48, 128, 320),
        in_index=(0, 1, 2),
        project_channels=(8, 128, 128),
        fuse_channels=64,
        channels=64,
        dropout_ratio=0,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
