"""VGG-16 encoder of DeepLab v1 (LargeFOV): output stride 8, no BN."""
import torch.nn as nn
from mmcv.runner import BaseModule
from mmseg.models.builder import BACKBONES


@BACKBONES.register_module()
class VGGDeepLabV1(BaseModule):
    """VGG-16 convolutions of DeepLab v1 LargeFOV, at output stride 8.

    `Semantic Image Segmentation with Deep Convolutional Nets and Fully
    Connected CRFs <https://arxiv.org/abs/1412.7062>`_.

    Plain VGG-16 (13 3x3 convolutions with ReLU, no normalisation) with the
    DeepLab changes: every max-pool is 3x3 with padding 1, pool1-pool3
    stride 2 and pool4-pool5 stride 1, and conv5 is dilated by 2 to keep
    the field of view. A 512 x 512 input gives a 64 x 64 map of 512
    channels. Pooling rounds down as PyTorch does (as CoinCheung's
    Deeplab-Large-FOV port), where Caffe's rounds up (a 65 x 65 map at 512).

    The layers sit in one ``features`` sequence with the indices of
    torchvision's ``vgg16().features``, so torchvision's ImageNet weights
    load unchanged: ``pretrained='torchvision://vgg16'`` (their
    ``classifier.*`` keys are left unused).

    Args:
        in_channels (int): Input image channels. Default: 3.
        pretrained (str, optional): Checkpoint to initialise from, the
            shorthand for ``init_cfg=dict(type='Pretrained', ...)`` that
            ``EncoderDecoder(pretrained=...)`` passes down. Default: None.
        init_cfg (dict | list[dict], optional): Initialization config.
            Default: None.
    """

    # (3x3 convolutions, channels, dilation, stride of the following pool)
    # of VGG-16's five stages in DeepLab LargeFOV.
    stage_settings = ((2, 64, 1, 2), (2, 128, 1, 2), (3, 256, 1, 2),
                      (3, 512, 1, 1), (3, 512, 2, 1))

    def __init__(self, in_channels=3, pretrained=None, init_cfg=None):
        if pretrained is not None:
            if not isinstance(pretrained, str):
                raise TypeError('VGGDeepLabV1: pretrained must be a '
                                f'checkpoint path or URL, got {pretrained!r}')
            if init_cfg is not None:
                raise ValueError('VGGDeepLabV1: give pretrained or init_cfg, '
                                 'not both')
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        super().__init__(init_cfg=init_cfg)
        layers = []
        for num_convs, channels, dilation, pool_stride in self.stage_settings:
            for _ in range(num_convs):
                layers += [
                    nn.Conv2d(in_channels, channels, 3, padding=dilation,
                              dilation=dilation),
                    nn.ReLU(inplace=True)
                ]
                in_channels = channels
            layers.append(nn.MaxPool2d(3, stride=pool_stride, padding=1))
        self.features = nn.Sequential(*layers)
        self.out_channels = in_channels

    def forward(self, x):
        """Return a 1-tuple: the pool5 map (N, 512, H/8, W/8)."""
        return (self.features(x), )
