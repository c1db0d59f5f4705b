"""DeepLab v1 LargeFOV classifier: fc6 (3x3, dilation 12), fc7, fc8."""
import torch.nn as nn
from mmcv.cnn import build_activation_layer
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead


@HEADS.register_module()
class DeepLabV1Head(BaseDecodeHead):
    """The LargeFOV head of DeepLab v1.

    `Semantic Image Segmentation with Deep Convolutional Nets and Fully
    Connected CRFs <https://arxiv.org/abs/1412.7062>`_.

    A 3x3 stride-1 average pool (pool5a, padding counted), fc6 as a 3x3
    convolution dilated by 12 to ``channels``, fc7 as a 1x1 convolution,
    both followed by ``act_cfg`` (ReLU), then dropout and fc8 (``conv_seg``). The layers
    are plain biased convolutions because LargeFOV has no normalisation;
    ``norm_cfg`` must stay None. The default ``init_cfg`` draws every
    convolution, fc8 included, from He's normal with gain 1 (fan in) and
    zero biases, as the PyTorch port the parity test compares with
    (CoinCheung/Deeplab-Large-FOV); the Caffe original took fc6/fc7 from
    subsampled ImageNet fc layers, which torchvision's VGG-16 cannot give.

    Args:
        dilation (int): Dilation (and padding) of fc6. Default: 12.
        **kwargs: Arguments of :class:`BaseDecodeHead`; DeepLab v1 uses
            ``channels=1024`` and ``dropout_ratio=0.5``.
    """

    def __init__(self,
                 dilation=12,
                 init_cfg=dict(
                     type='Kaiming',
                     a=1,
                     mode='fan_in',
                     nonlinearity='leaky_relu',
                     distribution='normal',
                     bias=0,
                     layer='Conv2d'),
                 **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        if self.norm_cfg is not None:
            raise ValueError('DeepLabV1Head has no normalisation layers; '
                             f'norm_cfg must be None, got {self.norm_cfg}')
        self.pool = nn.AvgPool2d(3, stride=1, padding=1)
        self.fc6 = nn.Conv2d(self.in_channels, self.channels, 3,
                             padding=dilation, dilation=dilation)
        self.fc7 = nn.Conv2d(self.channels, self.channels, 1)
        self.activate = build_activation_layer(self.act_cfg)

    def forward(self, inputs):
        x = self._transform_inputs(inputs)
        x = self.activate(self.fc6(self.pool(x)))
        x = self.activate(self.fc7(x))
        return self.cls_seg(x)
