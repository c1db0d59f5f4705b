"""SFNet decoder: an FPN whose top-down path is aligned by semantic flow,
as ``UperNetAlignHead`` of the official code (lxtGH/SFSegNets)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_conv_layer
from mmcv.runner import BaseModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.decode_heads.psp_head import PPM
from mmseg.ops import resize


def flow_warp(feat, flow):
    """Sample ``feat`` at every output pixel displaced by ``flow``.

    The official scaling: a flow of ``(u, v)`` shifts the normalised
    ``[-1, 1]`` sampling grid by ``(u / W, v / H)``, i.e. by
    ``u * (W - 1) / (2 * W)`` pixels (with ``align_corners=True``).

    Args:
        feat (Tensor): (N, C, h, w) map to sample; it may be smaller than the
            flow, then it is bilinearly upsampled on the fly.
        flow (Tensor): (N, 2, H, W) displacement (x, y) on the (H, W)
            output grid.

    Returns:
        Tensor: (N, C, H, W) warped map.
    """
    n, _, height, width = flow.shape
    ys = torch.linspace(-1.0, 1.0, height, dtype=flow.dtype,
                        device=flow.device)
    xs = torch.linspace(-1.0, 1.0, width, dtype=flow.dtype, device=flow.device)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    base = torch.stack((grid_x, grid_y), dim=-1).expand(n, -1, -1, -1)
    grid = base + flow.permute(0, 2, 3, 1) / flow.new_tensor([width, height])
    return F.grid_sample(
        feat, grid, mode='bilinear', padding_mode='zeros', align_corners=True)


class PyramidPoolingBottleneck(BaseModule):
    """SFNet's PSP module: pooled 1x1 conv + norm stages (no activation),
    concatenated after the input map, fused by a 1x1 conv + norm + act and
    followed by dropout.

    Args:
        pool_scales (tuple[int]): Pooling scales.
        in_channels (int): Channels of the input map.
        channels (int): Channels of each stage and of the output.
        dropout_ratio (float): ``Dropout2d`` after the fusion; 0 for none.
        conv_cfg, norm_cfg, act_cfg (dict): Layer configs.
        align_corners (bool): ``align_corners`` of the stage upsampling.
    """

    def __init__(self, pool_scales, in_channels, channels, dropout_ratio,
                 conv_cfg, norm_cfg, act_cfg, align_corners):
        super().__init__()
        self.stages = PPM(
            pool_scales,
            in_channels,
            channels,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=None,
            align_corners=align_corners)
        self.bottleneck = ConvModule(
            in_channels + len(pool_scales) * channels,
            channels,
            1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.dropout = nn.Dropout2d(dropout_ratio) if dropout_ratio > 0 \
            else nn.Identity()

    def forward(self, x):
        # Pooled stages first, then the input: the official order.
        return self.dropout(
            self.bottleneck(torch.cat(self.stages(x) + [x], dim=1)))


class FlowAlignmentModule(BaseModule):
    """Alignment Module (AM) of SFNet.

    Both maps are squeezed by 1x1 convolutions; the coarse one is upsampled
    to the fine one's size; a 3x3 convolution on their concatenation
    (coarse first) predicts a 2-channel semantic flow, which warps the
    (unsqueezed) coarse map onto the fine grid.

    Args:
        channels (int): Channels of both input maps.
        flow_channels (int): Channels of each squeezed map.
        conv_cfg (dict, optional): Convolution config. Default: None.
        align_corners (bool): ``align_corners`` of the upsampling.
            Default: True.
        init_cfg (dict | list[dict], optional): Initialization config.
            Default: None.
    """

    def __init__(self,
                 channels,
                 flow_channels,
                 conv_cfg=None,
                 align_corners=True,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.align_corners = align_corners
        self.squeeze_fine = build_conv_layer(
            conv_cfg, channels, flow_channels, 1, bias=False)
        self.squeeze_coarse = build_conv_layer(
            conv_cfg, channels, flow_channels, 1, bias=False)
        self.flow_conv = build_conv_layer(
            conv_cfg, 2 * flow_channels, 2, 3, padding=1, bias=False)

    def forward(self, fine, coarse):
        """Return ``coarse`` warped to the size of ``fine``."""
        squeezed_coarse = resize(
            self.squeeze_coarse(coarse),
            size=fine.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        flow = self.flow_conv(
            torch.cat([squeezed_coarse, self.squeeze_fine(fine)], dim=1))
        return flow_warp(coarse, flow)


@HEADS.register_module()
class SFNetHead(BaseDecodeHead):
    """Decoder of `SFNet <https://arxiv.org/abs/2002.10120>`_ (the official
    ``UperNetAlignHead``).

    A PPM summarises the last backbone level. Going top-down, each coarser
    FPN map is aligned onto the next lateral map by a
    :class:`FlowAlignmentModule` (instead of plain upsampling) and added to
    it, then refined by a 3x3 convolution. All levels are upsampled to the
    finest one, concatenated and fused by a 3x3 convolution before the
    classifier. As in the official code the lateral 1x1 convolutions keep
    their bias and ``dropout_ratio`` acts after the PPM bottleneck, not
    before the classifier. Set ``align_corners=True`` for the official
    resizing.

    Args:
        pool_scales (tuple[int]): Pooling scales of the PPM.
            Default: (1, 2, 3, 6).
        flow_channels (int, optional): Squeezed channels inside each
            alignment module. Default: ``channels // 2``.
        **kwargs: Passed to ``BaseDecodeHead`` with
            ``input_transform='multiple_select'``; ``in_channels`` lists the
            levels from fine to coarse.
    """

    def __init__(self, pool_scales=(1, 2, 3, 6), flow_channels=None,
                 **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        if len(self.in_channels) < 2:
            raise ValueError('SFNetHead needs at least two input levels, got '
                             f'in_channels={self.in_channels}')
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
        self.align_modules = nn.ModuleList(
            FlowAlignmentModule(
                self.channels,
                flow_channels,
                conv_cfg=self.conv_cfg,
                align_corners=self.align_corners)
            for _ in self.in_channels[:-1])
        self.fpn_convs = nn.ModuleList(
            ConvModule(self.channels, self.channels, 3, padding=1, **
                       conv_kwargs) for _ in self.in_channels[:-1])
        self.fpn_bottleneck = ConvModule(
            len(self.in_channels) * self.channels,
            self.channels,
            3,
            padding=1,
            **conv_kwargs)

    def cls_seg(self, feat):
        """Classify without dropout: it already acted after the PPM."""
        return self.conv_seg(feat)

    def forward(self, inputs):
        inputs = self._transform_inputs(inputs)
        top_down = self.ppm(inputs[-1])
        fpn_outs = [top_down]
        for i in reversed(range(len(inputs) - 1)):
            lateral = self.lateral_convs[i](inputs[i])
            top_down = lateral + self.align_modules[i](lateral, top_down)
            fpn_outs.append(self.fpn_convs[i](top_down))
        fpn_outs.reverse()
        size = fpn_outs[0].shape[2:]
        fused = torch.cat([fpn_outs[0]] + [
            resize(
                out,
                size=size,
                mode='bilinear',
                align_corners=self.align_corners) for out in fpn_outs[1:]
        ],
                          dim=1)
        return self.cls_seg(self.fpn_bottleneck(fused))
