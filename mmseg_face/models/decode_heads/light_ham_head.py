"""SegNeXt's decoder: a light Hamburger head with NMF matrix decomposition.

Differences from the SegNeXt / SegNeXt-FaceParser ``ham_head.py`` (on purpose):

* Bases are created on the input's device (the original calls ``.cuda()``),
  so the head runs, is tested and is profiled on CPU.
* Evaluation is deterministic. Training keeps the original's fresh random
  bases on every forward pass (a regulariser the published models were
  trained with). In eval mode the bases come from a fixed buffer drawn once,
  at construction, from the same distribution (uniform, L2-normalised) with a
  seeded CPU generator, so the same input always gives the same output on
  every machine. A seeded draw rather than learned bases because it adds no
  parameters (counts stay those of the original) and the buffer is an ONNX
  constant (no ``torch.rand`` on the eval path). The buffer is saved with
  checkpoints (mmcv saves every buffer anyway), so a checkpoint evaluates
  with the bases it was saved with; an original SegNeXt checkpoint lacks
  the key and keeps the seeded draw (mmcv reports it as missing).
* ``inv_t`` is honoured. The original reads ``INV_T`` (default 100) and then
  silently overwrites it with 1 in ``NMF2D``; the default here is 1, which is
  what the original effectively ran with, and a configured value is used.
* ``ham_kwargs`` accepts the original's upper-case keys (``MD_R``) and the
  lower-case mmseg-1.x spelling (``md_r``, ``train_steps``) and rejects
  unknown, unused or duplicated keys with an error.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmcv.runner import BaseModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.ops import resize

# Canonical (lower-case) NMF2D option names and their defaults.
NMF_DEFAULTS = dict(
    spatial=True,
    md_s=1,
    md_d=None,
    md_r=64,
    train_steps=6,
    eval_steps=7,
    inv_t=1,
    rand_init=True)


def parse_ham_kwargs(ham_kwargs, ham_channels):
    """Validate ``ham_kwargs`` and return NMF2D keyword arguments.

    Keys are matched case-insensitively, so both the original SegNeXt
    spelling (``MD_R``, ``TRAIN_STEPS``, ``INV_T``) and mmseg 1.x's
    (``MD_R``, ``train_steps``, ``inv_t``) work.

    Args:
        ham_kwargs (dict): Options of the matrix decomposition.
        ham_channels (int): Channels entering the decomposition.

    Returns:
        dict: Arguments of :class:`NMF2D` (``md_s``, ``md_r``,
        ``train_steps``, ``eval_steps``, ``inv_t``, ``rand_init``).
    """
    if not isinstance(ham_kwargs, dict):
        raise TypeError(
            f'ham_kwargs must be a dict, got {type(ham_kwargs).__name__}')
    options = {}
    for key, value in ham_kwargs.items():
        name = str(key).lower()
        if name == 'eta':
            raise ValueError(
                f'ham_kwargs key {key!r} has no effect: ETA belongs to the '
                'concept-decomposition Hamburger, not to NMF2D; remove it')
        if name not in NMF_DEFAULTS:
            raise ValueError(
                f'Unknown ham_kwargs key {key!r}; accepted keys (any case): '
                f'{", ".join(k.upper() for k in NMF_DEFAULTS)}')
        if name in options:
            raise ValueError(
                f'ham_kwargs sets {name.upper()} twice (keys differ only in '
                f'case): {sorted(ham_kwargs)}')
        options[name] = value
    options = {**NMF_DEFAULTS, **options}

    if options.pop('spatial') is not True:
        raise ValueError('ham_kwargs SPATIAL=False (factorising over '
                         'channels) is not supported; only SPATIAL=True is')
    md_s = options['md_s']
    if not isinstance(md_s, int) or md_s < 1 or ham_channels % md_s:
        raise ValueError(f'ham_kwargs MD_S={md_s!r} must be a positive '
                         f'divisor of ham_channels={ham_channels}')
    md_d = options.pop('md_d')
    if md_d is not None and md_d != ham_channels // md_s:
        raise ValueError(
            f'ham_kwargs MD_D={md_d!r} contradicts ham_channels / MD_S = '
            f'{ham_channels // md_s}; MD_D is derived, leave it out')
    minimums = dict(md_r=1, train_steps=0, eval_steps=0)
    for name, minimum in minimums.items():
        value = options[name]
        if not isinstance(value, int) or value < minimum:
            raise ValueError(f'ham_kwargs {name.upper()}={value!r} must be '
                             f'an int >= {minimum}')
    if not isinstance(options['rand_init'], bool):
        raise ValueError(
            f'ham_kwargs RAND_INIT={options["rand_init"]!r} must be a bool')
    return options


class NMF2D(nn.Module):
    """Non-negative matrix factorisation of a feature map (no parameters).

    The (B, C, H, W) input is split into ``md_s`` groups of D = C / md_s
    channels and each (D, H*W) matrix is approximated by bases (D, R) times
    coefficients (H*W, R)^T with multiplicative updates; the low-rank
    reconstruction is returned. Gradients flow through all updates, as in
    SegNeXt.

    Args:
        channels (int): Number of input channels C.
        md_s (int): Number of channel groups S. Default: 1.
        md_r (int): Rank R of the factorisation. Default: 64.
        train_steps (int): Update steps in training mode. Default: 6.
        eval_steps (int): Update steps in eval mode. Default: 7.
        inv_t (float): Inverse temperature of the softmax that initialises
            the coefficients. Default: 1.
        rand_init (bool): Draw fresh random bases on every training forward.
            False uses the fixed seeded bases in training as well. Eval
            always uses the fixed bases. Default: True.
        init_seed (int): Seed of the fixed bases. Default: 0.
    """

    eps = 1e-6

    def __init__(self,
                 channels,
                 md_s=1,
                 md_r=64,
                 train_steps=6,
                 eval_steps=7,
                 inv_t=1,
                 rand_init=True,
                 init_seed=0):
        super().__init__()
        self.md_s = md_s
        self.md_r = md_r
        self.train_steps = train_steps
        self.eval_steps = eval_steps
        self.inv_t = inv_t
        self.rand_init = rand_init
        generator = torch.Generator().manual_seed(init_seed)
        fixed = torch.rand(md_s, channels // md_s, md_r, generator=generator)
        self.register_buffer('fixed_bases', F.normalize(fixed, dim=1))

    def _init_bases(self, batch, dims, like):
        if self.training and self.rand_init:
            bases = torch.rand(
                batch * self.md_s,
                dims,
                self.md_r,
                device=like.device,
                dtype=like.dtype)
            return F.normalize(bases, dim=1)
        return self.fixed_bases.to(like.dtype).repeat(batch, 1, 1)

    def _update_coef(self, x, bases, coef):
        numerator = torch.bmm(x.transpose(1, 2), bases)
        denominator = coef.bmm(bases.transpose(1, 2).bmm(bases))
        return coef * numerator / (denominator + self.eps)

    def _update_bases(self, x, bases, coef):
        numerator = torch.bmm(x, coef)
        denominator = bases.bmm(coef.transpose(1, 2).bmm(coef))
        return bases * numerator / (denominator + self.eps)

    def forward(self, x):
        batch, channels, height, width = x.shape
        dims = channels // self.md_s
        x = x.reshape(batch * self.md_s, dims, height * width)
        bases = self._init_bases(batch, dims, x)
        coef = F.softmax(
            self.inv_t * torch.bmm(x.transpose(1, 2), bases), dim=-1)
        steps = self.train_steps if self.training else self.eval_steps
        for _ in range(steps):
            coef = self._update_coef(x, bases, coef)
            bases = self._update_bases(x, bases, coef)
        coef = self._update_coef(x, bases, coef)
        x = torch.bmm(bases, coef.transpose(1, 2))
        return x.reshape(batch, channels, height, width)


class Hamburger(BaseModule):
    """1x1 conv + ReLU, NMF2D, 1x1 conv + norm, residual add, ReLU.

    Args:
        ham_channels (int): Input and output channels.
        ham_kwargs (dict): Options of :class:`NMF2D`, see
            :func:`parse_ham_kwargs`.
        norm_cfg (dict | None): Config of the output norm layer.
    """

    def __init__(self, ham_channels, ham_kwargs, norm_cfg):
        super().__init__()
        self.ham_in = ConvModule(
            ham_channels, ham_channels, 1, norm_cfg=None, act_cfg=None)
        self.ham = NMF2D(ham_channels,
                         **parse_ham_kwargs(ham_kwargs, ham_channels))
        self.ham_out = ConvModule(
            ham_channels, ham_channels, 1, norm_cfg=norm_cfg, act_cfg=None)

    def forward(self, x):
        out = self.ham_out(self.ham(F.relu(self.ham_in(x))))
        return F.relu(x + out)


@HEADS.register_module()
class LightHamHead(BaseDecodeHead):
    """SegNeXt decoder (`SegNeXt <https://arxiv.org/abs/2209.08575>`_).

    Resizes the selected encoder stages to the first one's resolution
    (stride 8 with ``in_index=[1, 2, 3]``), concatenates them, squeezes to
    ``ham_channels``, applies a :class:`Hamburger` (`Is Attention Better
    Than Matrix Decomposition? <https://arxiv.org/abs/2109.04553>`_) and
    aligns to ``channels`` before the classifier.

    Args:
        ham_channels (int): Channels of the Hamburger. Default: 512.
        ham_kwargs (dict, optional): Options of the NMF decomposition, in
            the original upper-case (``dict(MD_R=16)``) or mmseg-1.x
            lower-case spelling; see :func:`parse_ham_kwargs`.
            Default: None (all defaults).
    """

    def __init__(self, ham_channels=512, ham_kwargs=None, **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        self.ham_channels = ham_channels
        self.squeeze = ConvModule(
            sum(self.in_channels),
            ham_channels,
            1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.hamburger = Hamburger(ham_channels, ham_kwargs or {},
                                   self.norm_cfg)
        self.align = ConvModule(
            ham_channels,
            self.channels,
            1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)

    def forward(self, inputs):
        inputs = self._transform_inputs(inputs)
        inputs = [
            resize(
                level,
                size=inputs[0].shape[2:],
                mode='bilinear',
                align_corners=self.align_corners) for level in inputs
        ]
        x = self.hamburger(self.squeeze(torch.cat(inputs, dim=1)))
        return self.cls_seg(self.align(x))
