# FaRL-Base face parser as facer publishes it (FaRL's FaceParsingTransformer):
# CLIP ViT-B/16 at 448 (tokens of blocks 3, 5, 7, 11), mmseg's
# Feature2Pyramid (4x, 2x, 1x, 0.5x) and UPerHead with 768 channels, pool
# scales 1-6, dropout 0.1, SyncBN, align_corners False. The logits come out
# at 512 x 512 whatever the input (FaRLEncoderDecoder.logit_size), as
# facer's network resizes them.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='FaRLEncoderDecoder',
    logit_size=(512, 512),
    backbone=dict(
        type='FaRLViT',
        img_size=448,
        patch_size=16,
        embed_dims=768,
        num_layers=12,
        num_heads=12,
        mlp_ratio=4,
        out_indices=(3, 5, 7, 11)),
    neck=dict(
        type='Feature2Pyramid',
        embed_dim=768,
        rescales=[4, 2, 1, 0.5],
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='UPerHead',
        in_channels=[768, 768, 768, 768],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=768,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
