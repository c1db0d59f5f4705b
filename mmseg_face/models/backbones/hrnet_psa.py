"""HRNet with Polarized Self-Attention in every BasicBlock.

`Polarized Self-Attention: Towards High-quality Pixel-wise Regression
<https://arxiv.org/abs/2107.00782>`_, as the official semantic-segmentation
code (DeLightCMU/PSA@20e307a, ``network/PSA.py`` and ``network/hrnetv2.py``)
builds it: one attention module between conv1-BN-ReLU and conv2 of each
BasicBlock of stages 2-4 (104 modules in HRNetV2); the Bottlenecks of
stage 1 have none. The rest is mmseg's HRNet.

Both layouts follow the code, which differs from the paper's text:

- sequential (``PSA_s``): the channel branch's up-projection is a bottleneck
  ``1x1 conv -> LayerNorm -> ReLU -> 1x1 conv`` (with biases), and the
  spatial branch takes the softmax over the pixels of its value.
- parallel (``PSA_p``): a single 1x1 up-projection without bias, and the
  softmax over the pixels of the query-value product.

The official code hard-wires ``PSA_s``; ``PSA_p`` is the class the same repo
ships for swapping in. Initialisation comes from the backbone's
``init_cfg``: the official draws every backbone conv, PSA included, from
N(0, 0.001) before loading the ImageNet HRNet weights (which hold no PSA
keys), and the configs do the same.

Not named ``PSA...Head``: mmseg's ``PSAHead`` is PSANet, another model.
"""
from abc import ABCMeta, abstractmethod

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmseg.models.backbones import HRNet
from mmseg.models.backbones.resnet import BasicBlock
from mmseg.models.builder import BACKBONES


class PolarizedSelfAttention(nn.Module, metaclass=ABCMeta):
    """Channel and spatial gates of polarized self-attention.

    Subclasses choose the up-projection of the channel branch, where the
    spatial branch's softmax goes and how the two gates combine.

    Args:
        channels (int): Input and output channels C; both branches work at
            C // 2 inside.
    """

    def __init__(self, channels):
        super().__init__()
        inner = channels // 2
        # Channel branch: one query map weights the pixels of a C/2 value.
        self.channel_query = nn.Conv2d(channels, 1, 1, bias=False)
        self.channel_value = nn.Conv2d(channels, inner, 1, bias=False)
        self.channel_up = self.build_channel_up(inner, channels)
        # Spatial branch: a pooled C/2 query weights the channels of a C/2
        # value at every pixel.
        self.spatial_query = nn.Conv2d(channels, inner, 1, bias=False)
        self.spatial_value = nn.Conv2d(channels, inner, 1, bias=False)

    @abstractmethod
    def build_channel_up(self, inner, channels):
        """The (N, C/2, 1, 1) -> (N, C, 1, 1) projection before the gate."""

    def channel_gate(self, x):
        """Sigmoid gate of shape (N, C, 1, 1)."""
        n, _, h, w = x.shape
        value = self.channel_value(x).view(n, -1, h * w)
        query = self.channel_query(x).view(n, 1, h * w).softmax(dim=2)
        context = torch.matmul(value, query.transpose(1, 2)).unsqueeze(-1)
        return self.channel_up(context).sigmoid()

    @abstractmethod
    def spatial_context(self, query, value):
        """(N, 1, HW) logits from the pooled query (N, 1, C/2) and the
        value (N, C/2, HW)."""

    def spatial_gate(self, x):
        """Sigmoid gate of shape (N, 1, H, W)."""
        n, _, h, w = x.shape
        query = self.spatial_query(x).mean(dim=(2, 3)).unsqueeze(1)
        value = self.spatial_value(x).view(n, -1, h * w)
        return self.spatial_context(query, value).view(n, 1, h, w).sigmoid()


class SequentialPolarizedSelfAttention(PolarizedSelfAttention):
    """PSA_s: the channel gate, then the spatial gate on its output."""

    def build_channel_up(self, inner, channels):
        bottleneck = inner // 4
        return nn.Sequential(
            nn.Conv2d(inner, bottleneck, 1),
            nn.LayerNorm([bottleneck, 1, 1]), nn.ReLU(inplace=True),
            nn.Conv2d(bottleneck, channels, 1))

    def spatial_context(self, query, value):
        return torch.matmul(query, value.softmax(dim=2))

    def forward(self, x):
        x = x * self.channel_gate(x)
        return x * self.spatial_gate(x)


class ParallelPolarizedSelfAttention(PolarizedSelfAttention):
    """PSA_p: the sum of the channel-gated and the spatially gated input."""

    def build_channel_up(self, inner, channels):
        return nn.Conv2d(inner, channels, 1, bias=False)

    def spatial_context(self, query, value):
        return torch.matmul(query, value).softmax(dim=2)

    def forward(self, x):
        return x * self.channel_gate(x) + x * self.spatial_gate(x)


class PSABasicBlock(BasicBlock):
    """mmseg's BasicBlock with ``attention_type`` after conv1-BN-ReLU."""

    attention_type = None

    def __init__(self, inplanes, planes, *args, **kwargs):
        super().__init__(inplanes, planes, *args, **kwargs)
        self.attention = self.attention_type(planes)

    def forward(self, x):

        def _inner_forward(x):
            out = self.relu(self.norm1(self.conv1(x)))
            out = self.norm2(self.conv2(self.attention(out)))
            identity = x if self.downsample is None else self.downsample(x)
            return out + identity

        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(_inner_forward, x)
        else:
            out = _inner_forward(x)
        return self.relu(out)


class SequentialPSABasicBlock(PSABasicBlock):
    attention_type = SequentialPolarizedSelfAttention


class ParallelPSABasicBlock(PSABasicBlock):
    attention_type = ParallelPolarizedSelfAttention


@BACKBONES.register_module()
class HRNetPSA(HRNet):
    """HRNet whose BASIC blocks carry polarized self-attention.

    Args:
        extra (dict): Stage settings, as for mmseg's ``HRNet``.
        psa_layout (str): ``'sequential'`` (PSA_s, the official default) or
            ``'parallel'`` (PSA_p). Default: 'sequential'.
        **kwargs: The other arguments of mmseg's ``HRNet``.
    """

    psa_blocks = dict(sequential=SequentialPSABasicBlock,
                      parallel=ParallelPSABasicBlock)

    def __init__(self, extra, psa_layout='sequential', **kwargs):
        if psa_layout not in self.psa_blocks:
            raise ValueError(f'psa_layout must be one of '
                             f'{sorted(self.psa_blocks)}, got {psa_layout!r}')
        # HRNet looks its blocks up in self.blocks_dict while it builds.
        self.blocks_dict = dict(HRNet.blocks_dict,
                                BASIC=self.psa_blocks[psa_layout])
        super().__init__(extra, **kwargs)
