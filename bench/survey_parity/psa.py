"""Polarized Self-Attention (DeLightCMU/PSA): HRNetV2 + PSA + OCR.

The original is ``network.ocrnet.HRNet`` of the official code (OCRNet on an
HRNetV2 trunk whose every BasicBlock carries ``PSA_s``), ours the configs in
``local_configs/psa/``. The official code hard-wires ``PSA_s`` in
``network/hrnetv2.py``; the PSA_p cases point that name at the repo's own
``PSA_p`` class before building, which is the one-line edit the README asks
for. The W18 cases set the official config's HRNet widths to 18/36/72/144.

Stand-ins, none of which changes a parameter or a computation of the
network compared here:

- ``utils.attr_dict.AttrDict`` and ``utils.misc.fmt_scale``: the repo is a
  partial fork of NVIDIA semantic-segmentation and lacks ``utils/``; a dict
  with attribute access and a formatter.
- NVIDIA ``apex``: ``amp.float_function`` becomes the identity decorator and
  ``apex.parallel.SyncBatchNorm`` is ``nn.BatchNorm2d`` (only imported).
- ``runx.logx``: ``logx.msg`` prints nothing.
- numpy >= 1.24 removed ``np.int``, which the HRNet trunk calls: ``int``.
- Config values that train.py sets from its arguments and datasets:
  ``MODEL.BNFUNC = nn.BatchNorm2d``, ``DATASET.NUM_CLASSES = 19`` (the
  default is 0, which builds empty classifiers), ``OPTIONS.TORCH_VERSION``,
  and an empty ``MODEL.HRNET_CHECKPOINT`` so that no ImageNet file is
  looked for.
"""
import importlib
import re
import sys
import types
import os.path as osp

import numpy as np
import torch.nn as nn

from survey_parity import ParityCase

REPO = 'DeLightCMU+PSA'
CONFIGS = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'local_configs', 'psa')
ORIGINAL_MODULES = ('config', 'network', 'utils', 'apex', 'runx', 'loss',
                    'datasets', 'transforms')


class _AttrDict(dict):
    """``cfg`` node of NVIDIA's config: a dict read and written as
    attributes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def immutable(self, is_immutable):
        pass


def _module(name, **attributes):
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    sys.modules[name] = module
    return module


def _install_stand_ins():
    _module('utils', __path__=[])
    _module('utils.attr_dict', AttrDict=_AttrDict)
    _module('utils.misc', fmt_scale=lambda prefix, scale: f'{prefix}_{scale}')
    amp = _module('apex.amp', float_function=lambda function: function)
    parallel = _module('apex.parallel', SyncBatchNorm=nn.BatchNorm2d)
    _module('apex', __path__=[], amp=amp, parallel=parallel)
    logx = types.SimpleNamespace(msg=lambda *args, **kwargs: None)
    _module('runx', __path__=[],
            logx=_module('runx.logx', logx=logx))
    if not hasattr(np, 'int'):
        np.int = int


def build_original(width, layout):
    def build(source_dir):
        code = osp.join(source_dir, 'semantic-segmentation')
        if code not in sys.path:
            sys.path.insert(0, code)
        _install_stand_ins()
        cfg = importlib.import_module('config').cfg
        cfg.MODEL.BNFUNC = nn.BatchNorm2d
        cfg.DATASET.NUM_CLASSES = 19
        cfg.OPTIONS.TORCH_VERSION = 2.0
        # Read as init_weights' default when network.hrnetv2 is imported.
        cfg.MODEL.HRNET_CHECKPOINT = ''
        for stage, branches in (('STAGE2', 2), ('STAGE3', 3), ('STAGE4', 4)):
            cfg.MODEL.OCR_EXTRA[stage].NUM_CHANNELS = [
                width * 2**i for i in range(branches)]
        hrnetv2 = importlib.import_module('network.hrnetv2')
        if layout == 'parallel':
            hrnetv2.PSA_s = importlib.import_module('network.PSA').PSA_p
        ocrnet = importlib.import_module('network.ocrnet')
        return ocrnet.HRNet(num_classes=19, criterion=None)

    return build


def build_ours(config):
    def build():
        from mmseg_face.utils.complexity import build_segmentor_from_config
        model, _ = build_segmentor_from_config(osp.join(CONFIGS, config))
        return model

    return build


ATTENTION = {
    'conv_q_right': 'channel_query',
    'conv_v_right': 'channel_value',
    'conv_up': 'channel_up',
    'conv_q_left': 'spatial_query',
    'conv_v_left': 'spatial_value',
}
# OCR block of the original -> our two heads. BNReLU is Sequential(BN, ReLU).
HEADS = [
    ('ocr.aux_head.0.', 'decode_head.0.conv.conv.'),
    ('ocr.aux_head.1.0.', 'decode_head.0.conv.bn.'),
    ('ocr.aux_head.2.', 'decode_head.0.conv_seg.'),
    ('ocr.conv3x3_ocr.0.', 'decode_head.1.bottleneck.conv.'),
    ('ocr.conv3x3_ocr.1.0.', 'decode_head.1.bottleneck.bn.'),
    ('ocr.cls_head.', 'decode_head.1.conv_seg.'),
    ('ocr.ocr_distri_head.conv_bn_dropout.0.',
     'decode_head.1.object_context_block.bottleneck.conv.'),
    ('ocr.ocr_distri_head.conv_bn_dropout.1.0.',
     'decode_head.1.object_context_block.bottleneck.bn.'),
]
PROJECTIONS = {
    'f_pixel': 'query_project',
    'f_object': 'key_project',
    'f_down': 'value_project',
    'f_up': 'out_project',
}


def key_map(key):
    """Official state-dict key -> ours."""
    if key.startswith('backbone.'):
        return re.sub(r'\.deattn\.(\w+)',
                      lambda m: '.attention.' + ATTENTION[m.group(1)], key)
    for original, ours in HEADS:
        if key.startswith(original):
            return ours + key[len(original):]
    # ObjectAttentionBlock: f_* = (conv, BNReLU) once or twice; ours are
    # ConvModules, a Sequential of them when there are two.
    match = re.fullmatch(
        r'ocr\.ocr_distri_head\.object_context_block\.(f_\w+)\.(\d)\.(.+)',
        key)
    if match is None:
        raise KeyError(f'no rule maps the official key {key}')
    name, index, rest = PROJECTIONS[match.group(1)], int(match.group(2)), \
        match.group(3)
    layer = 'conv' if index % 2 == 0 else 'bn'
    rest = rest[2:] if layer == 'bn' else rest  # drop BNReLU's '0.'
    prefix = f'decode_head.1.object_context_block.{name}.'
    if name in ('query_project', 'key_project'):
        prefix += f'{index // 2}.'
    return f'{prefix}{layer}.{rest}'


def original_logits(model, inputs):
    return model({'images': inputs})['pred']


def our_logits(model, inputs):
    return model.encode_decode(inputs, [dict()])


def case(name, width, layout, config, size):
    return ParityCase(
        name=name, repo=REPO, build_original=build_original(width, layout),
        build_ours=build_ours(config), key_map=key_map,
        original_logits=original_logits, our_logits=our_logits,
        input_shape=(1, 3, size, size), modules=ORIGINAL_MODULES)


CASES = [
    case('PSA_s HRNetV2-W48 + OCR', 48, 'sequential',
         'psa_s_hr48_ocr_512x512_80k_celebamask-hq.py', 256),
    case('PSA_p HRNetV2-W48 + OCR', 48, 'parallel',
         'psa_p_hr48_ocr_512x512_80k_celebamask-hq.py', 256),
    case('PSA_s HRNetV2-W18 + OCR', 18, 'sequential',
         'psa_s_hr18_ocr_512x512_80k_celebamask-hq.py', 256),
    case('PSA_p HRNetV2-W18 + OCR', 18, 'parallel',
         'psa_p_hr18_ocr_512x512_80k_celebamask-hq.py', 256),
]
