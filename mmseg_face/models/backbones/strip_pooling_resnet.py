"""SPNet's dilated ResNet: strip pooling modules (SPM) inside bottlenecks."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import PLUGIN_LAYERS, ConvModule
from mmcv.runner import BaseModule
from mmseg.models.backbones.resnet import Bottleneck, ResNetV1c
from mmseg.models.builder import BACKBONES


@PLUGIN_LAYERS.register_module()
class StripPoolingGate(BaseModule):
    """Strip pooling module (SPM) of SPNet, as a ResNet block plugin.

    The map is averaged over its width (an H x 1 strip) and over its height
    (a 1 x W strip); a 3x1 and a 1x3 conv (+ norm) filter the strips, whose
    broadcast sum goes through ReLU, a 1x1 conv (with bias) and a sigmoid
    into a gate that multiplies the map. Its ``_abbr_`` names the module
    ``spm`` inside the block, as in the official code.

    Args:
        in_channels (int): Channels of the gated map.
        norm_cfg (dict): Norm layer config. Default: dict(type='BN').
        init_cfg (dict | list[dict], optional): Initialization config.
            Default: None.
    """

    _abbr_ = 'spm'

    def __init__(self, in_channels, norm_cfg=dict(type='BN'), init_cfg=None):
        super().__init__(init_cfg)
        self.column_conv = ConvModule(in_channels, in_channels, (3, 1),
                                      padding=(1, 0), norm_cfg=norm_cfg,
                                      act_cfg=None)
        self.row_conv = ConvModule(in_channels, in_channels, (1, 3),
                                   padding=(0, 1), norm_cfg=norm_cfg,
                                   act_cfg=None)
        self.gate_conv = nn.Conv2d(in_channels, in_channels, 1)

    def forward(self, x):
        column = self.column_conv(F.adaptive_avg_pool2d(x, (x.shape[2], 1)))
        row = self.row_conv(F.adaptive_avg_pool2d(x, (1, x.shape[3])))
        return x * torch.sigmoid(self.gate_conv(F.relu(column + row)))


@BACKBONES.register_module()
class StripPoolingResNet(ResNetV1c):
    """Dilated ResNetV1c with SPNet's strip pooling modules.

    A :class:`StripPoolingGate` sits after conv2 (norm, ReLU) of the last
    bottleneck of every stage but the last, and of every bottleneck of the
    last stage, the placement of the official ``spm_on=True``. SPNet's
    ResNet is the PyTorch-Encoding one, whose deep stem is 64-64-128 wide:
    set ``stem_channels=128``.

    Args:
        spm_norm_cfg (dict, optional): Norm config of the gates; the
            backbone's ``norm_cfg`` when None. Default: None.
        **kwargs: :class:`ResNetV1c` arguments (Bottleneck depths only).
    """

    def __init__(self, spm_norm_cfg=None, **kwargs):
        depth = kwargs.get('depth')
        if depth not in self.arch_settings or \
                self.arch_settings[depth][0] is not Bottleneck:
            raise ValueError('StripPoolingResNet needs a Bottleneck depth '
                             f'(50, 101 or 152), got depth={depth}')
        self.spm_norm_cfg = spm_norm_cfg or kwargs.get(
            'norm_cfg', dict(type='BN', requires_grad=True))
        super().__init__(**kwargs)

    def make_res_layer(self, plugins=None, **kwargs):
        """A stage whose last block (every block in the last stage) has an
        SPM; ``self.res_layers`` lists the stages built so far."""
        plain = list(plugins or [])
        gated = plain + [
            dict(cfg=dict(type='StripPoolingGate', norm_cfg=self.spm_norm_cfg),
                 position='after_conv2')
        ]
        if len(self.res_layers) == self.num_stages - 1:
            return super().make_res_layer(plugins=gated, **kwargs)
        head = super().make_res_layer(
            plugins=plain or None,
            **dict(kwargs, num_blocks=kwargs['num_blocks'] - 1))
        # The last block: stride 1, full width in, the stage's dilation.
        last = super().make_res_layer(
            plugins=gated,
            **dict(kwargs, num_blocks=1,
                   inplanes=kwargs['planes'] * self.block.expansion,
                   stride=1, multi_grid=None, contract_dilation=False))
        return nn.Sequential(*head, *last)
