"""RegSeg encoder: dilated SE-ResNeXt blocks that stop downsampling at 1/16."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, build_activation_layer, build_norm_layer
from mmcv.runner import BaseModule
from mmseg.models.builder import BACKBONES


class SplitDilatedConv(nn.Module):
    """Grouped 3x3 convolution whose channel splits use their own dilations.

    The input channels are split into ``len(dilations)`` equal parts; part
    ``i`` goes through a grouped 3x3 convolution (``group_width`` channels
    a group) with dilation ``dilations[i]``, and the parts are concatenated
    again. With one dilation this is a plain grouped 3x3 convolution.

    Args:
        channels (int): Input and output channels.
        dilations (Sequence[int]): One dilation per channel split.
        group_width (int): Channels of each convolution group.
        stride (int): Stride of every convolution. Default: 1.
    """

    def __init__(self, channels, dilations, group_width, stride=1):
        super().__init__()
        split = channels // len(dilations)
        if split * len(dilations) != channels or split % group_width:
            raise ValueError(
                f'{channels} channels do not split into {len(dilations)} '
                f'parts of whole groups of {group_width}')
        self.convs = nn.ModuleList(
            nn.Conv2d(split, split, 3, stride=stride, padding=dilation,
                      dilation=dilation, groups=split // group_width,
                      bias=False) for dilation in dilations)

    def forward(self, x):
        parts = torch.tensor_split(x, len(self.convs), dim=1)
        return torch.cat([conv(part) for conv, part in zip(self.convs, parts)],
                         dim=1)


class SqueezeExcitation(nn.Module):
    """Channel gate: global average, 1x1 conv, ReLU, 1x1 conv, sigmoid.

    Args:
        channels (int): Channels of the gated map.
        squeeze_channels (int): Width of the bottleneck.
    """

    def __init__(self, channels, squeeze_channels):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = ConvModule(channels, squeeze_channels, 1, bias=True,
                                 act_cfg=dict(type='ReLU'))
        self.expand = ConvModule(squeeze_channels, channels, 1, bias=True,
                                 act_cfg=dict(type='Sigmoid'))

    def forward(self, x):
        return x * self.expand(self.reduce(self.pool(x)))


class DBlock(BaseModule):
    """RegSeg's D block, a bottleneck with split dilations and SE.

    1x1 conv, split-dilated grouped 3x3 conv (strided in the first block of
    a stage), SE gate, 1x1 conv, plus the shortcut, then the activation.
    The SE bottleneck is a quarter of the block's *input* width, as in the
    official code. A shortcut that changes stride averages 2x2 windows
    (ceil mode) before its 1x1 conv; one that only changes width is a 1x1
    conv.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (also the inner width).
        dilations (Sequence[int]): Dilations of the 3x3 convolution splits.
        group_width (int): Channels of each 3x3 convolution group.
        stride (int): Stride of the 3x3 convolution. Default: 1.
        norm_cfg (dict): Norm layer config. Default: dict(type='BN').
        act_cfg (dict): Activation config. Default: dict(type='ReLU').
        init_cfg (dict | list[dict], optional): Initialization config.
            Default: None.
    """

    def __init__(self,
                 in_channels,
                 out_channels,
                 dilations,
                 group_width,
                 stride=1,
                 norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='ReLU'),
                 init_cfg=None):
        super().__init__(init_cfg)
        self.conv1 = ConvModule(in_channels, out_channels, 1,
                                norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv2 = SplitDilatedConv(out_channels, dilations, group_width,
                                      stride)
        self.norm2 = build_norm_layer(norm_cfg, out_channels)[1]
        self.act2 = build_activation_layer(act_cfg)
        self.se = SqueezeExcitation(out_channels, in_channels // 4)
        self.conv3 = ConvModule(out_channels, out_channels, 1,
                                norm_cfg=norm_cfg, act_cfg=None)
        if stride != 1:
            self.shortcut = nn.Sequential(
                nn.AvgPool2d(stride, stride, ceil_mode=True),
                ConvModule(in_channels, out_channels, 1, norm_cfg=norm_cfg,
                           act_cfg=None))
        elif in_channels != out_channels:
            self.shortcut = ConvModule(in_channels, out_channels, 1,
                                       norm_cfg=norm_cfg, act_cfg=None)
        else:
            self.shortcut = nn.Identity()
        self.act = build_activation_layer(act_cfg)

    def forward(self, x):
        out = self.act2(self.norm2(self.conv2(self.conv1(x))))
        out = self.conv3(self.se(out))
        return self.act(out + self.shortcut(x))


@BACKBONES.register_module()
class RegSegNet(BaseModule):
    """RegSeg encoder (`RegSeg <https://arxiv.org/abs/2111.09957>`_).

    A stride-2 3x3 stem, then three stages of :class:`DBlock`; the first
    block of each stage halves the resolution, so the stages give 1/4, 1/8
    and 1/16 maps. Large dilations in the 1/16 stage replace further
    downsampling. Trained from scratch in the original (no ImageNet weights).

    Args:
        arch (str | dict): Key of ``arch_settings`` or a dict with
            ``stem_channels``, ``group_width`` and ``stages``: per stage a
            list of blocks, each ``(out_channels, dilations)``.
            Default: 'exp48' (the paper's RegSeg).
        in_channels (int): Image channels. Default: 3.
        out_indices (Sequence[int]): Stages whose outputs are returned.
            Default: (0, 1, 2).
        norm_cfg (dict): Norm layer config. Default: dict(type='BN').
        act_cfg (dict): Activation config. Default: dict(type='ReLU').
        init_cfg (dict | list[dict], optional): Initialization config.
            Default: None.
    """

    arch_settings = {
        # RegSeg(exp48_decoder26) in the official model.py.
        'exp48':
        dict(
            stem_channels=32,
            group_width=16,
            stages=(
                [(48, (1, ))],
                [(128, (1, ))] * 3,
                [(256, (1, )), (256, (1, )), (256, (1, 2))] +
                [(256, (1, 4))] * 4 + [(256, (1, 14))] * 6 +
                [(320, (1, 14))],
            )),
    }

    def __init__(self,
                 arch='exp48',
                 in_channels=3,
                 out_indices=(0, 1, 2),
                 norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='ReLU'),
                 init_cfg=None):
        super().__init__(init_cfg)
        if isinstance(arch, str):
            if arch not in self.arch_settings:
                raise ValueError(f'RegSegNet arch {arch!r} is not one of '
                               f'{sorted(self.arch_settings)}')
            arch = self.arch_settings[arch]
        self.out_indices = tuple(out_indices)
        channels = arch['stem_channels']
        self.stem = ConvModule(in_channels, channels, 3, stride=2, padding=1,
                               norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.stages = nn.ModuleList()
        for blocks in arch['stages']:
            stage = []
            for index, (out_channels, dilations) in enumerate(blocks):
                stage.append(
                    DBlock(channels, out_channels, dilations,
                           arch['group_width'], 2 if index == 0 else 1,
                           norm_cfg, act_cfg))
                channels = out_channels
            self.stages.append(nn.Sequential(*stage))

    def forward(self, x):
        x = self.stem(x)
        outs = []
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index in self.out_indices:
                outs.append(x)
        return tuple(outs)
