"""MSCAN, the multi-scale convolutional attention encoder of SegNeXt.

Submodule names follow the original implementation (``patch_embed{i}``,
``block{i}``, ``norm{i}``, ``attn.spatial_gating_unit.conv0_1``,
``mlp.dwconv.dwconv`` ...) so the released ImageNet-1K ``mscan_{t,s,b,l}.pth``
weights and SegNeXt face checkpoints load without key conversion.
"""
import math

import torch
import torch.nn as nn
from mmcls.models.builder import BACKBONES as MMCLS_BACKBONES
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmcv.cnn.utils.weight_init import constant_init, normal_init
from mmcv.runner import BaseModule
from mmseg.models.builder import BACKBONES


class StemConv(BaseModule):
    """Stage-1 patch embedding: two 3x3 stride-2 convolutions (stride 4).

    Args:
        in_channels (int): Number of input image channels.
        out_channels (int): Number of output channels; the first convolution
            produces half of them.
        norm_cfg (dict): Config of the norm layers.
        act_cfg (dict): Config of the activation between the convolutions.
    """

    def __init__(self, in_channels, out_channels, norm_cfg, act_cfg):
        super().__init__()
        # A plain Sequential keeps the checkpoint keys proj.0/1/3/4.
        self.proj = nn.Sequential(
            nn.Conv2d(in_channels, out_channels // 2, 3, stride=2, padding=1),
            build_norm_layer(norm_cfg, out_channels // 2)[1],
            build_activation_layer(act_cfg),
            nn.Conv2d(out_channels // 2, out_channels, 3, stride=2, padding=1),
            build_norm_layer(norm_cfg, out_channels)[1])

    def forward(self, x):
        return self.proj(x)


class OverlapPatchEmbed(BaseModule):
    """Stage-2..4 patch embedding: one 3x3 stride-2 convolution and a norm.

    Args:
        in_channels (int): Channels of the previous stage.
        out_channels (int): Channels of this stage.
        norm_cfg (dict): Config of the norm layer.
    """

    def __init__(self, in_channels, out_channels, norm_cfg):
        super().__init__()
        self.proj = nn.Conv2d(
            in_channels, out_channels, 3, stride=2, padding=1)
        self.norm = build_norm_layer(norm_cfg, out_channels)[1]

    def forward(self, x):
        return self.norm(self.proj(x))


class AttentionModule(BaseModule):
    """Multi-scale convolutional attention (MSCA).

    A 5x5 depth-wise convolution followed by three depth-wise strip branches
    (1x7+7x1, 1x11+11x1, 1x21+21x1); their sum is mixed by a 1x1 convolution
    and gates the input element-wise.

    Args:
        channels (int): Number of input and output channels.
    """

    strip_sizes = (7, 11, 21)

    def __init__(self, channels):
        super().__init__()
        self.conv0 = nn.Conv2d(
            channels, channels, 5, padding=2, groups=channels)
        for branch, size in enumerate(self.strip_sizes):
            pad = size // 2
            setattr(
                self, f'conv{branch}_1',
                nn.Conv2d(
                    channels,
                    channels, (1, size),
                    padding=(0, pad),
                    groups=channels))
            setattr(
                self, f'conv{branch}_2',
                nn.Conv2d(
                    channels,
                    channels, (size, 1),
                    padding=(pad, 0),
                    groups=channels))
        self.conv3 = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        local = self.conv0(x)
        attn = local
        for branch in range(len(self.strip_sizes)):
            horizontal = getattr(self, f'conv{branch}_1')
            vertical = getattr(self, f'conv{branch}_2')
            attn = attn + vertical(horizontal(local))
        return self.conv3(attn) * x


class SpatialAttention(BaseModule):
    """1x1 projection, activation, MSCA, 1x1 projection, plus a shortcut.

    Args:
        channels (int): Number of input and output channels.
        act_cfg (dict): Config of the activation after the first projection.
    """

    def __init__(self, channels, act_cfg):
        super().__init__()
        self.proj_1 = nn.Conv2d(channels, channels, 1)
        self.activation = build_activation_layer(act_cfg)
        self.spatial_gating_unit = AttentionModule(channels)
        self.proj_2 = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        out = self.activation(self.proj_1(x))
        out = self.proj_2(self.spatial_gating_unit(out))
        return out + x


class DWConv(BaseModule):
    """3x3 depth-wise convolution, wrapped to keep the ``dwconv.dwconv`` key.

    Args:
        channels (int): Number of input and output channels.
    """

    def __init__(self, channels):
        super().__init__()
        self.dwconv = nn.Conv2d(
            channels, channels, 3, padding=1, groups=channels)

    def forward(self, x):
        return self.dwconv(x)


class Mlp(BaseModule):
    """Convolutional feed-forward network: 1x1, depth-wise 3x3, act, 1x1.

    Args:
        channels (int): Number of input and output channels.
        hidden_channels (int): Number of hidden channels.
        act_cfg (dict): Config of the activation.
        drop_rate (float): Dropout after the activation and the output.
    """

    def __init__(self, channels, hidden_channels, act_cfg, drop_rate):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, hidden_channels, 1)
        self.dwconv = DWConv(hidden_channels)
        self.act = build_activation_layer(act_cfg)
        self.fc2 = nn.Conv2d(hidden_channels, channels, 1)
        self.drop = nn.Dropout(drop_rate)

    def forward(self, x):
        x = self.drop(self.act(self.dwconv(self.fc1(x))))
        return self.drop(self.fc2(x))


class Block(BaseModule):
    """MSCAN block: attention and MLP residual branches with layer scale.

    Args:
        channels (int): Number of input and output channels.
        mlp_ratio (float): Hidden-channel ratio of the MLP.
        drop_rate (float): Dropout rate inside the MLP.
        drop_path_rate (float): Stochastic-depth rate of both branches.
        norm_cfg (dict): Config of the two pre-norm layers.
        act_cfg (dict): Config of the activations.
        layer_scale_init (float): Initial value of the layer-scale weights.
            Default: 1e-2.
    """

    def __init__(self,
                 channels,
                 mlp_ratio,
                 drop_rate,
                 drop_path_rate,
                 norm_cfg,
                 act_cfg,
                 layer_scale_init=1e-2):
        super().__init__()
        self.norm1 = build_norm_layer(norm_cfg, channels)[1]
        self.attn = SpatialAttention(channels, act_cfg)
        self.drop_path = (
            DropPath(drop_path_rate) if drop_path_rate > 0 else nn.Identity())
        self.norm2 = build_norm_layer(norm_cfg, channels)[1]
        self.mlp = Mlp(channels, int(channels * mlp_ratio), act_cfg,
                       drop_rate)
        self.layer_scale_1 = nn.Parameter(
            torch.full((channels, ), float(layer_scale_init)))
        self.layer_scale_2 = nn.Parameter(
            torch.full((channels, ), float(layer_scale_init)))

    def forward(self, x):
        scale_1 = self.layer_scale_1.view(1, -1, 1, 1)
        scale_2 = self.layer_scale_2.view(1, -1, 1, 1)
        x = x + self.drop_path(scale_1 * self.attn(self.norm1(x)))
        return x + self.drop_path(scale_2 * self.mlp(self.norm2(x)))


@BACKBONES.register_module()
class MSCAN(BaseModule):
    """SegNeXt encoder (`SegNeXt <https://arxiv.org/abs/2209.08575>`_).

    Four stages at strides 4, 8, 16 and 32. Each stage is a patch embedding,
    a stack of :class:`Block` and a LayerNorm over channels.

    Args:
        arch (str | dict): Key of ``arch_settings`` ('t', 's', 'b', 'l') or a
            dict with keys ``embed_dims``, ``depths``, ``mlp_ratios`` and
            ``drop_path_rate``. Default: 't'.
        in_channels (int): Number of input image channels. Default: 3.
        drop_rate (float): Dropout rate inside the MLPs. Default: 0.
        drop_path_rate (float, optional): Maximum stochastic-depth rate,
            reached linearly by the last block. None takes the arch's value.
            Default: None.
        out_indices (Sequence[int]): Stages whose outputs are returned.
            Default: (0, 1, 2, 3).
        norm_cfg (dict): Config of the norm layers other than the per-stage
            LayerNorm. Default: dict(type='SyncBN', requires_grad=True).
        act_cfg (dict): Config of the activations. Default: dict(type='GELU').
        init_cfg (dict, optional): Initialization config, e.g.
            ``dict(type='Pretrained', checkpoint='pretrained/mscan_t.pth')``.
            None uses the original's He-normal convolution init. Default: None.
    """

    arch_settings = {
        't':
        dict(
            embed_dims=(32, 64, 160, 256),
            depths=(3, 3, 5, 2),
            mlp_ratios=(8, 8, 4, 4),
            drop_path_rate=0.1),
        's':
        dict(
            embed_dims=(64, 128, 320, 512),
            depths=(2, 2, 4, 2),
            mlp_ratios=(8, 8, 4, 4),
            drop_path_rate=0.1),
        'b':
        dict(
            embed_dims=(64, 128, 320, 512),
            depths=(3, 3, 12, 3),
            mlp_ratios=(8, 8, 4, 4),
            drop_path_rate=0.1),
        'l':
        dict(
            embed_dims=(64, 128, 320, 512),
            depths=(3, 5, 27, 3),
            mlp_ratios=(8, 8, 4, 4),
            drop_path_rate=0.3),
    }
    arch_keys = ('embed_dims', 'depths', 'mlp_ratios', 'drop_path_rate')

    def __init__(self,
                 arch='t',
                 in_channels=3,
                 drop_rate=0.,
                 drop_path_rate=None,
                 out_indices=(0, 1, 2, 3),
                 norm_cfg=dict(type='SyncBN', requires_grad=True),
                 act_cfg=dict(type='GELU'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        arch = self._parse_arch(arch)
        self.embed_dims = tuple(arch['embed_dims'])
        self.depths = tuple(arch['depths'])
        self.mlp_ratios = tuple(arch['mlp_ratios'])
        if drop_path_rate is None:
            drop_path_rate = arch['drop_path_rate']
        self.num_stages = len(self.embed_dims)
        if not (len(self.depths) == len(self.mlp_ratios) == self.num_stages):
            raise ValueError(
                'MSCAN arch needs one embed_dims, depths and mlp_ratios '
                f'entry per stage, got {arch}')
        for index in out_indices:
            if not 0 <= index < self.num_stages:
                raise ValueError(f'MSCAN out_indices {tuple(out_indices)} '
                                 f'must lie in [0, {self.num_stages})')
        self.out_indices = tuple(out_indices)

        total_depth = sum(self.depths)
        block_rates = [
            drop_path_rate * i / max(total_depth - 1, 1)
            for i in range(total_depth)
        ]
        previous = 0
        for stage, (channels, depth, mlp_ratio) in enumerate(
                zip(self.embed_dims, self.depths, self.mlp_ratios)):
            if stage == 0:
                patch_embed = StemConv(in_channels, channels, norm_cfg,
                                       act_cfg)
            else:
                patch_embed = OverlapPatchEmbed(self.embed_dims[stage - 1],
                                                channels, norm_cfg)
            blocks = nn.ModuleList(
                Block(channels, mlp_ratio, drop_rate,
                      block_rates[previous + i], norm_cfg, act_cfg)
                for i in range(depth))
            previous += depth
            setattr(self, f'patch_embed{stage + 1}', patch_embed)
            setattr(self, f'block{stage + 1}', blocks)
            setattr(self, f'norm{stage + 1}',
                    build_norm_layer(dict(type='LN'), channels)[1])

    def _parse_arch(self, arch):
        if isinstance(arch, str):
            if arch not in self.arch_settings:
                raise KeyError(f'Unknown MSCAN arch {arch!r}; choose one of '
                               f'{sorted(self.arch_settings)} or pass a dict')
            return self.arch_settings[arch]
        if not isinstance(arch, dict):
            raise TypeError(
                f'MSCAN arch must be a str or dict, got {type(arch)}')
        missing = set(self.arch_keys) - set(arch)
        unknown = set(arch) - set(self.arch_keys)
        if missing or unknown:
            raise KeyError(f'MSCAN arch dict {arch} is missing '
                           f'{sorted(missing)} / has unknown '
                           f'{sorted(unknown)}')
        return arch

    def init_weights(self):
        if self.init_cfg is not None:
            super().init_weights()
            return
        for module in self.modules():
            if isinstance(module, nn.LayerNorm):
                constant_init(module, val=1.0, bias=0.)
            elif isinstance(module, nn.Conv2d):
                # He-normal over the fan-out of one group, as the original.
                fan_out = (
                    module.kernel_size[0] * module.kernel_size[1] *
                    module.out_channels) // module.groups
                normal_init(module, mean=0, std=math.sqrt(2.0 / fan_out))

    def forward(self, x):
        outs = []
        for stage in range(self.num_stages):
            x = getattr(self, f'patch_embed{stage + 1}')(x)
            for block in getattr(self, f'block{stage + 1}'):
                x = block(x)
            # LayerNorm normalises the last dim, so move channels there.
            norm = getattr(self, f'norm{stage + 1}')
            x = norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2).contiguous()
            if stage in self.out_indices:
                outs.append(x)
        return tuple(outs)


MMCLS_BACKBONES.register_module(module=MSCAN)
