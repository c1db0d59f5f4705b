# The face BiSeNet of face-parsing.PyTorch / facexlib / yakhyo: a plain
# (torchvision-layout) ResNet-18 context path, no spatial path, and
# bias-free classifiers (their converted biases are zero). Logits are
# upsampled with align_corners=True, as the original does. Its training loss:
# OHEM cross-entropy (pixels of p < 0.7, at least 1/16 of a 448 crop) on the
# main and both auxiliary outputs.
norm_cfg = dict(type='SyncBN', requires_grad=True)
ohem = dict(type='OHEMPixelSampler', thresh=0.7, min_kept=448 * 448 // 16)
aux_head = dict(
    type='FCNHead',
    in_channels=128,
    channels=64,
    num_convs=1,
    num_classes=19,
    norm_cfg=norm_cfg,
    concat_input=False,
    dropout_ratio=0,
    align_corners=True,
    sampler=ohem,
    loss_decode=dict(
        type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0))
model = dict(
    type='FaceEncoderDecoder',
    backbone=dict(
        type='FaceBiSeNet',
        backbone_cfg=dict(
            type='ResNet',
            depth=18,
            out_indices=(0, 1, 2, 3),
            norm_cfg=norm_cfg,
            style='pytorch'),
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='FCNHead',
        in_channels=256,
        in_index=0,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=True,
        sampler=ohem,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=[
        dict(aux_head, in_index=1),
        dict(aux_head, in_index=2),
    ],
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
