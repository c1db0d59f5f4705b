# SFNet-Lite-STDC2 as the official AlignedSTDC2_SFV2_spatial_atten
# (lxtGH/SFSegNets): SFNet-Lite-STDC1 with the deeper STDC2 backbone and its
# ImageNet weights (mmseg's conversion); the head is the same.
_base_ = './sfnet_lite_stdc1.py'
model = dict(
    backbone=dict(
        stdc_type='STDCNet2',
        init_cfg=dict(
            checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/'
            'pretrain/stdc/stdc2_20220308-7dbd9127.pth')))
