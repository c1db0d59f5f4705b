# DeepLab v1 LargeFOV (VGG-16, output stride 8, no BN) for 19 face classes;
# leaf configs set flip_pairs. Logits are upsampled with align_corners=True
# as in the PyTorch port (CoinCheung/Deeplab-Large-FOV); the loss is taken
# on the upsampled logits, where the Caffe original shrank the labels by 8.
model = dict(
    type='FaceEncoderDecoder',
    # torchvision's ImageNet VGG-16; the backbone keeps its key layout.
    pretrained='torchvision://vgg16',
    backbone=dict(type='VGGDeepLabV1', in_channels=3),
    decode_head=dict(
        type='DeepLabV1Head',
        in_channels=512,
        channels=1024,
        dilation=12,
        dropout_ratio=0.5,
        num_classes=19,
        norm_cfg=None,
        align_corners=True,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
