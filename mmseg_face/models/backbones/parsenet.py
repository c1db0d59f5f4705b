"""Residual encoder-decoder of GPEN's face parser (ParseNet)."""
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmcv.runner import BaseModule, Sequential
from mmseg.models.builder import BACKBONES


class ParseNetResBlock(BaseModule):
    """Residual block of ParseNet with an optional 2x down/up sampling.

    The main path is conv-norm-act followed by conv-norm; there is no
    activation after the addition. Every 3x3 convolution pads by reflection.
    A 'down' block strides its second convolution; an 'up' block upsamples
    (nearest, 2x) before its first one. The shortcut is the identity when
    the shape is kept, otherwise a biased 3x3 convolution with the same
    resampling and neither norm nor activation.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        scale (str): 'none', 'down' or 'up'. Default: 'none'.
        norm_cfg (dict): Norm layer config. Default: dict(type='BN').
        act_cfg (dict): Activation config of the first convolution.
            Default: dict(type='LeakyReLU', negative_slope=0.2).
        init_cfg (dict | list[dict], optional): Initialization config.
            Default: None.
    """

    def __init__(self,
                 in_channels,
                 out_channels,
                 scale='none',
                 norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='LeakyReLU', negative_slope=0.2),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if scale not in ('none', 'down', 'up'):
            raise ValueError(
                f"scale must be 'none', 'down' or 'up', got {scale!r}")
        self.scale = scale
        conv_kwargs = dict(kernel_size=3, padding=1, padding_mode='reflect')
        stride = 2 if scale == 'down' else 1
        self.upsample = (
            nn.Upsample(scale_factor=2, mode='nearest')
            if scale == 'up' else nn.Identity())

        if scale == 'none' and in_channels == out_channels:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = ConvModule(
                in_channels,
                out_channels,
                stride=stride,
                norm_cfg=None,
                act_cfg=None,
                **conv_kwargs)
        self.conv1 = ConvModule(
            in_channels,
            out_channels,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            **conv_kwargs)
        self.conv2 = ConvModule(
            out_channels,
            out_channels,
            stride=stride,
            norm_cfg=norm_cfg,
            act_cfg=None,
            **conv_kwargs)

    def forward(self, x):
        x = self.upsample(x)
        return self.shortcut(x) + self.conv2(self.conv1(x))


@BACKBONES.register_module()
class ParseNet(BaseModule):
    """Encoder-body-decoder of GPEN's ParseNet, without its output layers.

    From `GPEN <https://github.com/yangxy/GPEN>`_ (``face_parse``), which
    took it from `PSFR-GAN <https://arxiv.org/abs/2009.08709>`_. A stem
    convolution is followed by ``num_stages`` stride-2 residual blocks, a body
    of ``num_res_blocks`` residual blocks with a long skip, and
    ``num_stages`` upsampling residual blocks, so the output has the input's
    resolution. Channels double per down step starting from
    ``base_channels`` and are clipped to ``channel_range``.

    With the defaults (and ``ParseNetHead`` on top) this is GPEN's model:
    the backbone has 21,290,560 parameters.

    Args:
        in_channels (int): Input image channels. Default: 3.
        base_channels (int): Stem output channels. Default: 64.
        channel_range (tuple[int, int]): Lower and upper bound of the
            channels of every block. Default: (32, 256).
        num_stages (int): Down (and up) sampling steps; the input sides
            must be divisible by ``2 ** num_stages``. Default: 4.
        num_res_blocks (int): Residual blocks in the body. Default: 10.
        norm_cfg (dict): Norm layer config. Default: dict(type='BN').
        act_cfg (dict): Activation config.
            Default: dict(type='LeakyReLU', negative_slope=0.2).
        init_cfg (dict | list[dict], optional): Initialization config.
            Default: None.
    """

    def __init__(self,
                 in_channels=3,
                 base_channels=64,
                 channel_range=(32, 256),
                 num_stages=4,
                 num_res_blocks=10,
                 norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='LeakyReLU', negative_slope=0.2),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        min_channels, max_channels = channel_range
        if min_channels > max_channels:
            raise ValueError(f'channel_range must be (low, high), got '
                             f'{channel_range}')
        self.num_stages = num_stages

        def clip(channels):
            return max(min_channels, min(channels, max_channels))

        block_kwargs = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        # The stem has neither norm nor activation, as in the original.
        encoder = [
            ConvModule(
                in_channels,
                base_channels,
                kernel_size=3,
                padding=1,
                padding_mode='reflect',
                norm_cfg=None,
                act_cfg=None)
        ]
        channels = base_channels
        for _ in range(num_stages):
            encoder.append(
                ParseNetResBlock(
                    clip(channels), clip(channels * 2), 'down',
                    **block_kwargs))
            channels *= 2
        self.encoder = Sequential(*encoder)
        self.body = Sequential(*[
            ParseNetResBlock(clip(channels), clip(channels), 'none', **
                             block_kwargs) for _ in range(num_res_blocks)
        ])
        decoder = []
        for _ in range(num_stages):
            decoder.append(
                ParseNetResBlock(
                    clip(channels), clip(channels // 2), 'up',
                    **block_kwargs))
            channels //= 2
        self.decoder = Sequential(*decoder)
        self.out_channels = clip(channels)

    def forward(self, x):
        """Return a one-element tuple: the full-resolution decoder map."""
        factor = 2**self.num_stages
        if x.shape[-2] % factor or x.shape[-1] % factor:
            raise ValueError(
                f'ParseNet needs input sides divisible by {factor}, got '
                f'{tuple(x.shape[-2:])}')
        feat = self.encoder(x)
        return (self.decoder(feat + self.body(feat)), )
