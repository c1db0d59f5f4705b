import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, build_activation_layer, build_norm_layer
from mmcv.runner import BaseModule, force_fp32
from mmseg.models.builder import HEADS, build_loss
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch.nn.modules.utils import _pair

from ..losses.affinity_loss import ideal_affinity


class AggregationModule(BaseModule):
    """CPNet's aggregation module: spatially separable depth-wise context.

    A 3x3 conv reduces the input; two depth-wise factorised ``k x k``
    branches (``k x 1`` then ``1 x k``, and ``1 x k`` then ``k x 1``, with
    bias and no norm) see a ``k x k`` window at linear cost; their sum is
    normalised and activated.

    Args:
        in_channels (int): Input channels.
        channels (int): Output channels (the prior channels).
        kernel_size (int): ``k`` of the factorised branches.
        conv_cfg (dict | None): Config of the conv layers.
        norm_cfg (dict | None): Config of the norm layers.
        act_cfg (dict): Config of the activations.
    """

    def __init__(self, in_channels, channels, kernel_size, conv_cfg, norm_cfg,
                 act_cfg):
        super().__init__()
        self.reduce_conv = ConvModule(
            in_channels, channels, 3, padding=1, conv_cfg=conv_cfg,
            norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.vertical_first = nn.Sequential(
            self._depthwise(channels, (kernel_size, 1), conv_cfg),
            self._depthwise(channels, (1, kernel_size), conv_cfg))
        self.horizontal_first = nn.Sequential(
            self._depthwise(channels, (1, kernel_size), conv_cfg),
            self._depthwise(channels, (kernel_size, 1), conv_cfg))
        self.norm = build_norm_layer(norm_cfg, channels)[1]
        self.activate = build_activation_layer(act_cfg)

    @staticmethod
    def _depthwise(channels, kernel_size, conv_cfg):
        return ConvModule(
            channels, channels, kernel_size,
            padding=(kernel_size[0] // 2, kernel_size[1] // 2),
            groups=channels, conv_cfg=conv_cfg, norm_cfg=None, act_cfg=None)

    def forward(self, x):
        x = self.reduce_conv(x)
        return self.activate(
            self.norm(self.vertical_first(x) + self.horizontal_first(x)))


@HEADS.register_module()
class CPHead(BaseDecodeHead):
    """Context Prior head (`CPNet <https://arxiv.org/abs/2004.01547>`_).

    After the :class:`AggregationModule`, a 1x1 conv + norm predicts for
    every position a sigmoid affinity to each of the ``prior_size``
    positions (the context prior ``P``, (N, HW, HW)). Intra-class context
    ``P V / HW`` and inter-class context ``(1 - P) V / HW`` each pass a 1x1
    ConvModule; they are concatenated with the input and fused by a 3x3
    ConvModule before the classifier. Training supervises ``P`` with
    ``loss_prior_decode`` against the :func:`ideal_affinity` of the labels.

    The prior conv's width is ``prior_size[0] * prior_size[1]``, so the
    feature map must have exactly that size: 64x64 for a 512x512 input at
    output stride 8.

    Args:
        prior_channels (int): Channels of the aggregated features ``V``.
        prior_size (int | tuple[int, int]): (h, w) of the feature map.
        am_kernel_size (int): Kernel size of the aggregation module.
        groups (int): Groups of the prior conv. Default: 1.
        feature_stride (int): Output stride of the backbone features the
            head reads; with ``prior_size`` it gives the one input size the
            model accepts (``required_input_size``). Default: 8.
        loss_prior_decode (dict): Config of the prior loss. Default:
            ``dict(type='AffinityLoss', loss_weight=1.0)``.
    """

    def __init__(self,
                 prior_channels,
                 prior_size,
                 am_kernel_size,
                 groups=1,
                 feature_stride=8,
                 loss_prior_decode=dict(type='AffinityLoss', loss_weight=1.0),
                 **kwargs):
        super().__init__(**kwargs)
        self.prior_channels = prior_channels
        self.prior_size = _pair(prior_size)
        self.required_input_size = tuple(size * feature_stride
                                         for size in self.prior_size)
        num_positions = self.prior_size[0] * self.prior_size[1]
        self.aggregation = AggregationModule(
            self.in_channels, prior_channels, am_kernel_size, self.conv_cfg,
            self.norm_cfg, self.act_cfg)
        self.prior_conv = ConvModule(
            prior_channels, num_positions, 1, groups=groups,
            conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=None)
        self.intra_conv, self.inter_conv = (ConvModule(
            prior_channels, prior_channels, 1, conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg, act_cfg=self.act_cfg) for _ in range(2))
        self.bottleneck = ConvModule(
            self.in_channels + 2 * prior_channels, self.channels, 3,
            padding=1, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.loss_prior_decode = build_loss(loss_prior_decode)

    def _context(self, affinity, values, height, width):
        """``affinity @ values / HW`` as an (N, C, H, W) map."""
        context = torch.bmm(affinity, values).div(height * width)
        return context.transpose(1, 2).reshape(
            values.size(0), self.prior_channels, height, width)

    def forward(self, inputs):
        """Logits and the context prior (N, HW, HW)."""
        x = self._transform_inputs(inputs)
        height, width = x.shape[2:]
        if (height, width) != self.prior_size:
            raise ValueError(
                f'CPHead: the feature map is {height}x{width} but prior_size '
                f'is {self.prior_size[0]}x{self.prior_size[1]}; the prior is '
                'sized for one input size, '
                f'{self.required_input_size[0]}x{self.required_input_size[1]}'
                ' (or set prior_size to the input size / feature_stride)')
        value = self.aggregation(x)
        prior_map = torch.sigmoid(
            self.prior_conv(value).flatten(2).transpose(1, 2))
        values = value.flatten(2).transpose(1, 2)
        intra = self.intra_conv(self._context(prior_map, values, height,
                                              width))
        inter = self.inter_conv(self._context(1 - prior_map, values, height,
                                              width))
        output = self.bottleneck(torch.cat([x, intra, inter], dim=1))
        return self.cls_seg(output), prior_map

    def forward_test(self, inputs, img_metas, test_cfg):
        """Logits only."""
        return self.forward(inputs)[0]

    @force_fp32(apply_to=('seg_logit', ))
    def losses(self, seg_logit, seg_label):
        """Segmentation losses of the logits plus the prior loss."""
        seg_logit, prior_map = seg_logit
        loss = super().losses(seg_logit, seg_label)
        affinity = ideal_affinity(seg_label, self.prior_size,
                                  self.num_classes, self.ignore_index)
        loss[self.loss_prior_decode.loss_name] = self.loss_prior_decode(
            prior_map, affinity)
        return loss
