"""SPNet decoder: mixed pooling modules (pyramid + strip pooling)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmcv.runner import BaseModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.ops import resize


class MixedPoolingModule(BaseModule):
    """SPNet's mixed pooling module (``StripPooling`` in the official code).

    Two branches, each opened by a 1x1 ConvModule to a quarter of the
    width. The pyramid branch sums a 3x3 conv of its map with 3x3 convs of
    the map average-pooled to each of ``pool_sizes`` (upsampled back); the
    strip branch sums a 1x3 conv of the 1 x W strip and a 3x1 conv of the
    H x 1 strip (broadcast back). Each sum goes through ReLU and a 3x3
    ConvModule; the concatenated branches are projected by a 1x1 conv
    (+ norm) and added to the input, then ReLU.

    Args:
        channels (int): Input and output channels.
        pool_sizes (Sequence[int]): Output sizes of the pyramid poolings.
        conv_cfg (dict, optional): Convolution config. Default: None.
        norm_cfg (dict, optional): Norm layer config. Default: None.
        act_cfg (dict): Activation config. Default: dict(type='ReLU').
        align_corners (bool): ``align_corners`` of the upsampling.
            Default: True (SPNet's).
        init_cfg (dict | list[dict], optional): Initialization config.
            Default: None.
    """

    def __init__(self,
                 channels,
                 pool_sizes,
                 conv_cfg=None,
                 norm_cfg=None,
                 act_cfg=dict(type='ReLU'),
                 align_corners=True,
                 init_cfg=None):
        super().__init__(init_cfg)
        inner = channels // 4
        self.pool_sizes = tuple(pool_sizes)
        self.align_corners = align_corners

        def conv(in_channels, out_channels, kernel_size, padding=0,
                 act=False):
            return ConvModule(in_channels, out_channels, kernel_size,
                              padding=padding, conv_cfg=conv_cfg,
                              norm_cfg=norm_cfg,
                              act_cfg=act_cfg if act else None)

        self.pyramid_reduce = conv(channels, inner, 1, act=True)
        self.strip_reduce = conv(channels, inner, 1, act=True)
        self.local_conv = conv(inner, inner, 3, padding=1)
        self.pool_convs = nn.ModuleList(
            conv(inner, inner, 3, padding=1) for _ in self.pool_sizes)
        self.row_conv = conv(inner, inner, (1, 3), padding=(0, 1))
        self.column_conv = conv(inner, inner, (3, 1), padding=(1, 0))
        self.pyramid_fuse = conv(inner, inner, 3, padding=1, act=True)
        self.strip_fuse = conv(inner, inner, 3, padding=1, act=True)
        self.project = conv(2 * inner, channels, 1)

    def forward(self, x):
        height, width = x.shape[2:]
        pyramid = self.pyramid_reduce(x)
        strip = self.strip_reduce(x)
        local = self.local_conv(pyramid)
        for size, pool_conv in zip(self.pool_sizes, self.pool_convs):
            local = local + resize(
                pool_conv(F.adaptive_avg_pool2d(pyramid, size)),
                size=(height, width), mode='bilinear',
                align_corners=self.align_corners, warning=False)
        # A 1 x W or H x 1 strip resized back is a broadcast copy.
        strips = self.row_conv(F.adaptive_avg_pool2d(strip, (1, width))) + \
            self.column_conv(F.adaptive_avg_pool2d(strip, (height, 1)))
        out = torch.cat(
            [self.pyramid_fuse(F.relu(local)),
             self.strip_fuse(F.relu(strips))], dim=1)
        return F.relu(x + self.project(out))


@HEADS.register_module()
class SPHead(BaseDecodeHead):
    """SPNet's head (`Strip Pooling <https://arxiv.org/abs/2003.13328>`_).

    A 1x1 ConvModule to ``mpm_channels``, ``num_mpms`` mixed pooling
    modules, then a 3x3 ConvModule to ``channels`` before ``conv_seg``
    (dropout 0.1 in SPNet).

    Args:
        mpm_channels (int): Width of the mixed pooling modules.
            Default: 1024.
        num_mpms (int): Number of mixed pooling modules. Default: 2.
        pool_sizes (Sequence[int]): Pyramid pooling output sizes of each
            module. Default: (20, 12).
    """

    def __init__(self, mpm_channels=1024, num_mpms=2, pool_sizes=(20, 12),
                 **kwargs):
        super().__init__(**kwargs)
        self.reduce = ConvModule(self.in_channels, mpm_channels, 1,
                                 conv_cfg=self.conv_cfg,
                                 norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.mpms = nn.Sequential(*(
            MixedPoolingModule(mpm_channels, pool_sizes, self.conv_cfg,
                               self.norm_cfg, self.act_cfg,
                               self.align_corners) for _ in range(num_mpms)))
        self.bottleneck = ConvModule(mpm_channels, self.channels, 3,
                                     padding=1, conv_cfg=self.conv_cfg,
                                     norm_cfg=self.norm_cfg,
                                     act_cfg=self.act_cfg)

    def forward(self, inputs):
        x = self._transform_inputs(inputs)
        return self.cls_seg(self.bottleneck(self.mpms(self.reduce(x))))
