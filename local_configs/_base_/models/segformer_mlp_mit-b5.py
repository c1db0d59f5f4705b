# SegFormer-B5 as the Hugging Face SegformerForSemanticSegmentation builds it
# (jonathandinu/face-parsing's config): MiT-B5 (64-128-320-512 channels, 3/6/
# 40/3 blocks, LayerNorm eps 1e-5 as torch's default, where mmseg's MiT uses
# 1e-6) and the Hugging Face all-MLP head (768 channels), 19 classes.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='FaceEncoderDecoder',
    pretrained=None,
    backbone=dict(
        type='SDPAMixVisionTransformer',
        in_channels=3,
        embed_dims=64,
        num_stages=4,
        num_layers=[3, 6, 40, 3],
        num_heads=[1, 2, 5, 8],
        patch_sizes=[7, 3, 3, 3],
        strides=[4, 2, 2, 2],
        sr_ratios=[8, 4, 2, 1],
        out_indices=(0, 1, 2, 3),
        mlp_ratio=4,
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.1,
        norm_cfg=dict(type='LN', eps=1e-5)),
    decode_head=dict(
        type='SegformerMLPHead',
        in_channels=[64, 128, 320, 512],
        in_index=[0, 1, 2, 3],
        channels=768,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
