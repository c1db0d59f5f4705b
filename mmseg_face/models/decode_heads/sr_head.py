import torch.nn as nn
from mmcv.cnn import ConvModule, build_norm_layer
from mmcv.runner import BaseModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead


class ChannelReasonModule(BaseModule):
    """SR-Net's channel squeeze-reasoning block (residual).

    Three 1x1 convs (theta, phi, g) reduce ``in_channels`` to
    ``reason_channels``. Each channel's phi . g dot product over all
    positions squeezes the map into one value per channel; these are
    regrouped into a graph of ``node_num`` nodes (channel ``c`` becomes node
    ``c % node_num``, feature ``c // node_num``), updated across nodes
    (1x1 Conv1d + BN + ReLU, plus the input: "Laplacian smoothing") and
    across features (1x1 Conv1d + BN + ReLU). The result rescales theta
    channel-wise; a grouped 1x1 conv (two outputs per channel) and a
    GroupNorm restore ``in_channels`` before the residual sum.

    As in the official code, the updated graph is flattened node-major, so
    channel ``c`` of theta is scaled by node ``c // features``, feature
    ``c % features``: not the inverse of the regrouping above. The node
    norms are plain ``BatchNorm1d``, also under SyncBN, as the original's.

    Args:
        in_channels (int): Input (and output) channels.
        reason_channels (int): Channels of theta, phi and g.
        node_num (int): Graph nodes; must divide ``reason_channels``.
            Default: 32.
    """

    def __init__(self, in_channels, reason_channels, node_num=32):
        super().__init__()
        if reason_channels % node_num or in_channels % reason_channels:
            raise ValueError(
                f'ChannelReasonModule: node_num ({node_num}) must divide '
                f'reason_channels ({reason_channels}), which must divide '
                f'in_channels ({in_channels})')
        self.node_num = node_num
        self.node_features = reason_channels // node_num
        # The 1-D graph layers are registered before any Conv2d: mmcv's
        # fuse_conv_bn folds a BN into the last Conv2d registered before it,
        # and these BNs normalise Conv1d outputs.
        self.node_conv = nn.Conv1d(node_num, node_num, 1, bias=False)
        self.node_norm = build_norm_layer(dict(type='BN1d'), node_num)[1]
        self.feature_conv = nn.Conv1d(self.node_features, self.node_features,
                                      1, bias=False)
        self.feature_norm = build_norm_layer(dict(type='BN1d'),
                                             self.node_features)[1]
        self.theta_conv, self.phi_conv, self.g_conv = (
            nn.Conv2d(in_channels, reason_channels, 1, bias=False)
            for _ in range(3))
        self.activate = nn.ReLU()
        self.out_conv = nn.Conv2d(reason_channels, in_channels, 1,
                                  groups=reason_channels, bias=False)
        self.out_norm = build_norm_layer(
            dict(type='GN', num_groups=reason_channels), in_channels)[1]

    def channel_scale(self, phi, g):
        """Per-channel scale (N, C, 1, 1) from the graph reasoning over the
        squeezed phi . g products."""
        batch_size, channels = phi.shape[:2]
        squeezed = (phi * g).flatten(2).sum(2)
        nodes = squeezed.view(batch_size, self.node_features,
                              self.node_num).transpose(1, 2)
        nodes = self.activate(self.node_norm(self.node_conv(nodes))) + nodes
        nodes = self.activate(
            self.feature_norm(self.feature_conv(nodes.transpose(1, 2))))
        return nodes.transpose(1, 2).reshape(batch_size, channels, 1, 1)

    def forward(self, x):
        scale = self.channel_scale(self.phi_conv(x), self.g_conv(x))
        return self.out_norm(self.out_conv(scale * self.theta_conv(x))) + x


@HEADS.register_module()
class SRHead(BaseDecodeHead):
    """Squeeze-reasoning head (`SR-Net <https://arxiv.org/abs/2011.03308>`_).

    A 1x1 conv (with bias, no norm) reduces the input to ``channels``, a
    :class:`ChannelReasonModule` reasons over channels, and a 3x3
    ConvModule (with bias before its norm, as in the official ModuleHead)
    precedes the classifier.

    Args:
        reason_channels (int): Channels of the reasoning block. Default: 256.
        node_num (int): Its graph nodes. Default: 32.
    """

    def __init__(self, reason_channels=256, node_num=32, **kwargs):
        super().__init__(**kwargs)
        self.in_conv = ConvModule(self.in_channels, self.channels, 1,
                                  conv_cfg=self.conv_cfg, norm_cfg=None,
                                  act_cfg=None)
        self.reasoning = ChannelReasonModule(self.channels, reason_channels,
                                             node_num)
        self.bottleneck = ConvModule(
            self.channels, self.channels, 3, padding=1, bias=True,
            conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)

    def forward(self, inputs):
        x = self.in_conv(self._transform_inputs(inputs))
        return self.cls_seg(self.bottleneck(self.reasoning(x)))
