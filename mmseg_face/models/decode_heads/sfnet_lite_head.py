"""SFNet-Lite decoder (``UperNetAlignHeadV2`` with the pooling-attention
gated alignment of the official code, lxtGH/SFSegNets)."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, build_conv_layer
from mmcv.runner import BaseModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.ops import resize

from .sfnet_head import PyramidPoolingBottleneck, flow_warp


class GatedDualFlowAlignment(BaseModule):
    """Gated Dual Flow Alignment Module of SFNet-Lite.

    Like SFNet's alignment module, but the 3x3 convolution predicts two
    flows, one warping the coarse map and one warping the fine map onto the
    fine grid. A gate from a 3x3 convolution over four one-channel maps
    (channel mean of the squeezed upsampled coarse map, of the fine map,
    then their channel maxima) mixes them:
    ``gate * warp(coarse) + (1 - gate) * warp(fine)``.

    Args:
        channels (int): Channels of both input maps.
        flow_channels (int): Channels of each squeezed map.
        conv_cfg (dict, optional): Convolution config. Default: None.
        align_corners (bool): ``align_corners`` of the upsampling.
            Default: True.
    """

    def __init__(self, channels, flow_channels, conv_cfg=None,
                 align_corners=True):
        super().__init__()
        self.align_corners = align_corners
        self.squeeze_fine = build_conv_layer(
            conv_cfg, channels, flow_channels, 1, bias=False)
        self.squeeze_coarse = build_conv_layer(
            conv_cfg, channels, flow_channels, 1, bias=False)
        self.flow_conv = build_conv_layer(
            conv_cfg, 2 * flow_channels, 4, 3, padding=1, bias=False)
        self.gate_conv = build_conv_layer(
            conv_cfg, 4, 1, 3, padding=1, bias=False)

    def forward(self, fine, coarse):
        """Return the gated mix of both maps on the grid of ``fine``."""
        squeezed_coarse = resize(
            self.squeeze_coarse(coarse),
            size=fine.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        flow = self.flow_conv(
            torch.cat([squeezed_coarse, self.squeeze_fine(fine)], dim=1))
        warped_coarse = flow_warp(coarse, flow[:, :2])
        warped_fine = flow_warp(fine, flow[:, 2:])
        # The official pools the squeezed coarse map but the unsqueezed fine
        # one.
        pooled = torch.cat([
            squeezed_coarse.mean(dim=1, keepdim=True),
            fine.mean(dim=1, keepdim=True),
            squeezed_coarse.amax(dim=1, keepdim=True),
            fine.amax(dim=1, keepdim=True)
        ],
                           dim=1)
        gate = torch.sigmoid(self.gate_conv(pooled))
        return warped_coarse * gate + warped_fine * (1 - gate)


@HEADS.register_module()
class SFNetLiteHead(BaseDecodeHead):
    """Decoder of `SFNet-Lite <https://arxiv.org/abs/2207.04624>`_.

    Three levels, fine to coarse (strides 4, 16 and 32 in the official
    models): a PPM on the coarsest one, whose output a
    :class:`GatedDualFlowAlignment` aligns onto the 1x1 lateral of the
    finest one in a single step; the lateral of the middle level, upsampled,
    is concatenated with it and a 3x3 convolution fuses both before the
    classifier. ``dropout_ratio`` acts after the PPM bottleneck, as in the
    official.

    The official builds two parts its forward never uses, left out here:
    a deep-supervision branch (3x3 conv with bias + BN + 1x1 classifier,
    its ``forward`` returns no auxiliary output) and, in the ResNet-18
    model, a lateral for the 512-channel level.

    Args:
        pool_scales (tuple[int]): Pooling scales of the PPM.
            Default: (1, 2, 3, 6).
        flow_channels (int, optional): Squeezed channels inside the
            alignment module. Default: ``channels // 2``.
        **kwargs: Passed to ``BaseDecodeHead`` with
            ``input_transform='multiple_select'``; ``in_channels`` lists the
            three levels from fine to coarse.
    """

    def __init__(self, pool_scales=(1, 2, 3, 6), flow_channels=None,
                 **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        if len(self.in_channels) != 3:
            raise ValueError('SFNetLiteHead needs three input levels (fine, '
                             f'middle, coarse), got in_channels='
                             f'{self.in_channels}')
        flow_channels = flow_channels or self.channels // 2
        conv_kwargs = dict(
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.ppm = PyramidPoolingBottleneck(
            pool_scales, self.in_channels[-1], self.channels,
            self.dropout_ratio, align_corners=self.align_corners,
            **conv_kwargs)
        self.lateral_convs = nn.ModuleList(
            ConvModule(in_channels, self.channels, 1, bias=True,
                       **conv_kwargs)
            for in_channels in self.in_channels[:-1])
        self.align_module = GatedDualFlowAlignment(
            self.channels,
            flow_channels,
            conv_cfg=self.conv_cfg,
            align_corners=self.align_corners)
        self.fpn_bottleneck = ConvModule(
            2 * self.channels, self.channels, 3, padding=1, **conv_kwargs)

    def cls_seg(self, feat):
        """Classify without dropout: it already acted after the PPM."""
        return self.conv_seg(feat)

    def forward(self, inputs):
        fine, middle, coarse = self._transform_inputs(inputs)
        fine = self.lateral_convs[0](fine)
        aligned = self.align_module(fine, self.ppm(coarse))
        middle = resize(
            self.lateral_convs[1](middle),
            size=aligned.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        return self.cls_seg(
            self.fpn_bottleneck(torch.cat([aligned, middle], dim=1)))
