"""EAGR against tegusi/EAGRNet's ``networks/EAGR.py`` (``EAGRNet``, 19
classes), at 473², its crop size.

Stand-in: ``inplace_abn`` (a CUDA extension, not installed) is replaced by
a ``BatchNorm2d`` followed by LeakyReLU(0.01), which is what its
``InPlaceABN``/``InPlaceABNSync`` compute in eval mode by default (and it
has their weight, bias and running statistics).

Two rows. The original builds every norm with that ``abn``, the ResNet's
included, so its bottlenecks apply LeakyReLU(0.01) after ``bn3`` and after
the downsample BN, before the residual add, where mmseg's ``ResNet`` (ours)
has no activation (after ``bn1``/``bn2`` and in the stem a ReLU follows, which
absorbs the LeakyReLU). The first row is the original as written; the second
gives the original's backbone norms no activation, which isolates the head.
"""
import functools
import importlib
import os.path as osp
import re
import sys
import types

import torch.nn as nn
import torch.nn.functional as F

from . import ParityCase

_BACKBONE = re.compile(r'^(conv[1-3]|bn[1-3]|layer[1-4])\b')
_HEAD = [
    (r'^layer5\.stages\.(\d)\.1\.', r'psp_modules.\1.1.conv.'),
    (r'^layer5\.stages\.(\d)\.2\.', r'psp_modules.\1.1.bn.'),
    (r'^layer5\.bottleneck\.0\.', 'psp_bottleneck.conv.'),
    (r'^layer5\.bottleneck\.1\.', 'psp_bottleneck.bn.'),
    (r'^edge_layer\.conv([1-3])\.0\.',
     lambda m: f'edge_module.projections.{int(m[1]) - 1}.conv.'),
    (r'^edge_layer\.conv([1-3])\.1\.',
     lambda m: f'edge_module.projections.{int(m[1]) - 1}.bn.'),
    (r'^edge_layer\.conv4\.', 'edge_module.classifier.'),
    (r'^edge_layer\.conv5\.', 'edge_module.fuse.'),
    (r'^block1\.', 'context_graph.'),
    (r'^block2\.', 'skip_graph.'),
    (r'^layer6\.conv1\.0\.', 'context_project.conv.'),
    (r'^layer6\.conv1\.1\.', 'context_project.bn.'),
    (r'^layer6\.conv2\.0\.', 'skip_project.conv.'),
    (r'^layer6\.conv2\.1\.', 'skip_project.bn.'),
    (r'^layer6\.conv3\.0\.', 'fuse.0.conv.'),
    (r'^layer6\.conv3\.1\.', 'fuse.0.bn.'),
    (r'^layer6\.conv3\.2\.', 'fuse.1.conv.'),
    (r'^layer6\.conv3\.3\.', 'fuse.1.bn.'),
    (r'^layer6\.conv4\.', 'conv_seg.'),
]
# Inside an EAGR module (after block1./block2. became context_/skip_graph.).
_GRAPH = [(r'\.gcn\.conv1\.', '.gcn.node_conv.'),
          (r'\.gcn\.conv2\.', '.gcn.channel_conv.'),
          (r'\.conv_extend\.', '.conv_out.conv.'),
          (r'\.blocker\.', '.conv_out.bn.')]


class _ABNStandIn(nn.BatchNorm2d):
    """BN then LeakyReLU(slope), as InPlace-ABN in eval mode; ``slope=None``
    is BN alone."""

    def __init__(self, num_features, activation='leaky_relu',
                 activation_param=0.01, affine=True, **kwargs):
        super().__init__(num_features, affine=affine)
        self.slope = activation_param

    def forward(self, x):
        x = super().forward(x)
        return x if self.slope is None else F.leaky_relu(x, self.slope)


def key_map(key):
    from mmseg_face.utils.checkpoint_converters import convert_ce2p_resnet
    if _BACKBONE.match(key):
        return 'backbone.' + next(iter(convert_ce2p_resnet({key: None})))
    for pattern, replacement in _HEAD:
        renamed, count = re.subn(pattern, replacement, key)
        if count:
            for graph_pattern, graph_name in _GRAPH:
                renamed = re.sub(graph_pattern, graph_name, renamed)
            return 'decode_head.' + renamed
    raise KeyError(f'no rule for the original key {key!r}')


def build_original(source_dir, backbone_activation):
    stand_in = types.ModuleType('inplace_abn')
    stand_in.InPlaceABN = stand_in.InPlaceABNSync = _ABNStandIn
    sys.modules['inplace_abn'] = stand_in
    sys.path.insert(0, osp.join(source_dir, 'networks'))
    model = importlib.import_module('EAGR').EAGRNet(19, _ABNStandIn)
    if not backbone_activation:
        for name, module in model.named_modules():
            if isinstance(module, _ABNStandIn) and _BACKBONE.match(name):
                module.slope = None
    return model


def build_ours():
    from mmcv import Config
    from mmseg.models import build_segmentor
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(
        root, 'local_configs', 'eagr',
        'eagr_r101_8xb7_473x473_200e_celebamask_hq.py'))
    cfg.model.backbone.norm_cfg = dict(type='BN')
    cfg.model.backbone.init_cfg = None
    cfg.model.decode_head.norm_cfg = dict(type='BN')
    return build_segmentor(cfg.model)


def original_logits(model, inputs):
    return F.interpolate(model(inputs)[0], size=inputs.shape[2:],
                         mode='bilinear', align_corners=True)


def our_logits(model, inputs):
    shape = tuple(inputs.shape[2:]) + (3, )
    metas = [dict(img_shape=shape, ori_shape=shape, pad_shape=shape)]
    return model.encode_decode(inputs, metas * len(inputs))


CASES = [
    ParityCase(
        name=name, repo='tegusi+EAGRNet',
        build_original=functools.partial(
            build_original, backbone_activation=activation),
        build_ours=build_ours, key_map=key_map,
        original_logits=original_logits, our_logits=our_logits,
        input_shape=(1, 3, 473, 473), modules=('EAGR', 'inplace_abn'))
    for name, activation in [
        ('EAGRNet (as written: LeakyReLU(0.01) in the ResNet)', True),
        ('EAGRNet, its ResNet norms without activation', False)]
]
