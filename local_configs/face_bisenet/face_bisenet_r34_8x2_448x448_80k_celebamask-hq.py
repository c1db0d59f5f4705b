_base_ = ['./face_bisenet_r18_8x2_448x448_80k_celebamask-hq.py']
# yakhyo/face-parsing's ResNet-34 BiSeNet (resnet34.pt after
# tools/model_converters/face_bisenet.py), same recipe.
model = dict(
    backbone=dict(
        backbone_cfg=dict(
            depth=34,
            init_cfg=dict(type='Pretrained',
                          checkpoint='torchvision://resnet34'))))
