_base_ = './ehanet_r18_8xb2_512x512_200e_celebamask_hq.py'
model = dict(
    backbone=dict(
        depth=34,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet34')))
