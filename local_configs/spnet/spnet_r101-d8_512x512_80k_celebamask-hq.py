_base_ = './spnet_r50-d8_512x512_80k_celebamask-hq.py'
# SPNet-R101, the paper's model (config/cityscapes/cityscapes_spnet101.yaml
# trains it at lr 0.005, batch 8 on Cityscapes); here the same recipe as
# R50 at batch 16.
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(
            checkpoint='pretrain/resnet101_deepstem128_imagenet.pth')))
