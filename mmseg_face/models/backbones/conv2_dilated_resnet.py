"""ResNetV1c whose basic blocks dilate their second convolution.

SFNet's ResNet-18 (``resnet_d`` in lxtGH/SFSegNets) keeps every stride and
dilates only the second 3x3 convolution of each block in the last two stages,
while mmseg's ``BasicBlock`` puts the dilation on the first (strided) one.
The two give different networks for the same weights, so the official
pattern needs its own block.
"""
from mmcv.cnn import build_conv_layer
from mmseg.models.backbones.resnet import BasicBlock, ResNetV1c
from mmseg.models.builder import BACKBONES


class Conv2DilatedBasicBlock(BasicBlock):
    """``BasicBlock`` with the stride on ``conv1`` and the dilation on
    ``conv2`` (mmseg's puts both on ``conv1``)."""

    def __init__(self, inplanes, planes, dilation=1, conv_cfg=None, **kwargs):
        super().__init__(
            inplanes, planes, dilation=1, conv_cfg=conv_cfg, **kwargs)
        self.conv2 = build_conv_layer(
            conv_cfg,
            planes,
            planes,
            3,
            padding=dilation,
            dilation=dilation,
            bias=False)
        self.dilation = dilation


@BACKBONES.register_module()
class Conv2DilatedResNetV1c(ResNetV1c):
    """ResNetV1c (3-convolution stem) built from
    :class:`Conv2DilatedBasicBlock`.

    With ``stem_channels=128``, ``strides=(1, 2, 2, 2)`` and
    ``dilations=(1, 1, 2, 4)`` it is SFNet's deep-stem ResNet-18 (stem
    64-64-128, a 1x1 projection into layer1, output stride 32 with dilated
    ``conv2`` in layer3/layer4). Only basic-block depths are offered: the
    official dilates bottleneck blocks in their (strided) middle
    convolution, which mmseg's ``Bottleneck`` already does.
    """

    arch_settings = {
        18: (Conv2DilatedBasicBlock, (2, 2, 2, 2)),
        34: (Conv2DilatedBasicBlock, (3, 4, 6, 3)),
    }
