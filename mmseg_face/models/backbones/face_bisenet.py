"""BiSeNet of face-parsing.PyTorch (zll), facexlib and yakhyo/face-parsing."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmcv.runner import BaseModule
from mmseg.models.backbones.bisenetv1 import ContextPath
from mmseg.models.builder import BACKBONES
from mmseg.ops import resize


class FaceContextPath(ContextPath):
    """mmseg's context path that also hands out the backbone's 1/8 feature.

    The face BiSeNet has no spatial path: its feature fusion takes the
    ResNet's ``layer2`` output (1/8, 128 channels) in its place, which
    mmseg's :class:`ContextPath` computes but drops.

    Returns:
        tuple[Tensor]: ``(x_8, x_16_up, x_32_up)``: the backbone's 1/8
        feature, and the refined 1/16 and 1/32 contexts upsampled to 1/8
        and 1/16.
    """

    def forward(self, x):
        _, x_8, x_16, x_32 = self.backbone(x)
        x_32_sum = self.arm32(x_32) + self.gap_conv(x_32)
        x_32_up = self.conv_head32(
            resize(x_32_sum, size=x_16.shape[2:], mode='nearest'))
        x_16_sum = self.arm16(x_16) + x_32_up
        x_16_up = self.conv_head16(
            resize(x_16_sum, size=x_8.shape[2:], mode='nearest'))
        return x_8, x_16_up, x_32_up


class SqueezeExciteFusion(BaseModule):
    """Feature fusion of the face BiSeNet: 1x1 conv, then a bottleneck gate.

    Unlike mmseg's ``FeatureFusionModule`` (a full-width 1x1 conv with BN and
    ReLU before the sigmoid), the gate squeezes the pooled feature to a
    quarter of its channels and back, with plain bias-free convolutions and
    a ReLU between them, as the face BiSeNet does. The output is
    ``feat * gate + feat``.

    Args:
        in_channels (int): Channels of the concatenated inputs.
        out_channels (int): Output channels.
        reduction (int): Bottleneck reduction of the gate. Default: 4.
        norm_cfg (dict): Norm layer of the fusion conv. Default: BN.
        act_cfg (dict): Activation of the fusion conv. Default: ReLU.
        init_cfg (dict | list[dict], optional): Initialization config.
    """

    def __init__(self,
                 in_channels,
                 out_channels,
                 reduction=4,
                 norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='ReLU'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.fuse = ConvModule(
            in_channels, out_channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(out_channels, out_channels // reduction, 1, bias=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels // reduction, out_channels, 1, bias=False),
            nn.Sigmoid())

    def forward(self, x_spatial, x_context):
        feat = self.fuse(torch.cat([x_spatial, x_context], dim=1))
        return feat * self.gate(feat) + feat


@BACKBONES.register_module()
class FaceBiSeNet(BaseModule):
    """The face-parsing BiSeNet published with trained CelebAMask-HQ weights.

    This is the network of zllrunning/face-parsing.PyTorch (``79999_iter.pth``,
    also shipped by facexlib as ``parsing_bisenet.pth``) and of
    yakhyo/face-parsing (ResNet-18 and -34). It differs from mmseg's
    :class:`BiSeNetV1` in two places, so those weights cannot load there:
    there is no spatial path (the ResNet's 1/8 feature replaces it), and the
    feature fusion gate is a bias-free bottleneck
    (:class:`SqueezeExciteFusion`). The context path is mmseg's, over a
    plain (7x7-stem, torchvision-layout) ``ResNet``.

    The three outputs feed mmseg heads exactly as ``BiSeNetV1``'s do: the
    fused 1/8 feature (main head) and the 1/8 and 1/16 contexts (auxiliary
    heads).

    Args:
        backbone_cfg (dict): Config of the context path's ResNet; it must
            return its four stages.
        context_channels (tuple[int]): Channels of the ARM outputs and of the
            backbone's last two stages. Default: (128, 256, 512).
        spatial_channels (int): Channels of the backbone's 1/8 stage.
            Default: 128.
        out_channels (int): Channels of the fused feature. Default: 256.
        out_indices (tuple[int]): Outputs to return, of
            ``(fused, context 1/8, context 1/16)``. Default: (0, 1, 2).
        norm_cfg (dict): Norm layer config. Default: BN.
        act_cfg (dict): Activation config. Default: ReLU.
        init_cfg (dict | list[dict], optional): Initialization config.
    """

    def __init__(self,
                 backbone_cfg,
                 context_channels=(128, 256, 512),
                 spatial_channels=128,
                 out_channels=256,
                 out_indices=(0, 1, 2),
                 norm_cfg=dict(type='BN', requires_grad=True),
                 act_cfg=dict(type='ReLU'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.out_indices = out_indices
        self.context_path = FaceContextPath(
            backbone_cfg, context_channels, norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.ffm = SqueezeExciteFusion(
            spatial_channels + context_channels[0], out_channels,
            norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x):
        x_8, x_context8, x_context16 = self.context_path(x)
        outs = (self.ffm(x_8, x_context8), x_context8, x_context16)
        return tuple(outs[i] for i in self.out_indices)
