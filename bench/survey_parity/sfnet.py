"""SFNet-R18 and SFNet-Lite (R18, STDC1, STDC2) against lxtGH/SFSegNets.

The originals are ``network.sfnet_resnet.DeepR18_SF_deeply``,
``DeepR18_SFV2_deeply_dsn_FA_Atten`` and ``network.sfnet_stdcnet.
AlignedSTDC{1,2}_SFV2_spatial_atten``, built unmodified with these
stand-ins, none of which changes a parameter or the eval forward:

- ``apex``: ``amp.float_function`` is the identity decorator (the repo's
  ``network/nn/mynn.py`` imports it);
- ``config``: only ``cfg.MODEL.BNFUNC = torch.nn.BatchNorm2d``, what the
  repo's ``config.py`` sets without SyncBN (the real file needs apex);
- ``network.sfnet_resnet.UperNetAlignHeadAddition``: the STDC file imports
  this name, which the commit does not define; it is never built here;
- pretrained weights: ``resnet_d.resnet18`` is called with
  ``pretrained=False`` and the STDC nets skip ``init_weight`` (both read
  files that are not in the repository).

Keys the originals build but never use map to None: the Lite heads'
deep-supervision branch ``head.dsn`` (its forward returns no auxiliary
output), Lite-R18's third lateral ``head.fpn_in.2``, the STDC nets' ImageNet
classifier (``conv_last``, ``fc``, ``bn``, ``linear``) and their ``x2`` ..
``x32`` containers, which hold the ``features`` modules a second time.
"""
import functools
import importlib
import os.path as osp
import re
import sys
import types

import torch

from survey_parity import ParityCase

REPO = 'lxtGH+SFSegNets'
CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'local_configs', 'sfnet')
STAND_INS = ('apex', 'config')
NUM_CLASSES = 19

# STDC1 / STDC2: STDC modules in each of the three stride-2 stages.
STDC_STAGE_BLOCKS = {1: (2, 2, 2), 2: (4, 5, 3)}


def install_stand_ins():
    apex = types.ModuleType('apex')
    apex.amp = types.SimpleNamespace(float_function=lambda function: function)
    config = types.ModuleType('config')
    config.cfg = types.SimpleNamespace(
        MODEL=types.SimpleNamespace(BNFUNC=torch.nn.BatchNorm2d))
    sys.modules.update(apex=apex, config=config)


def build_resnet_original(source_dir, builder):
    install_stand_ins()
    resnet_d = importlib.import_module('network.resnet_d')
    resnet_d.resnet18 = functools.partial(resnet_d.resnet18, pretrained=False)
    sfnet_resnet = importlib.import_module('network.sfnet_resnet')
    return getattr(sfnet_resnet, builder)(NUM_CLASSES, criterion=None)


def build_stdc_original(source_dir, version):
    install_stand_ins()
    sfnet_resnet = importlib.import_module('network.sfnet_resnet')
    sfnet_resnet.UperNetAlignHeadAddition = None
    stdcnet = importlib.import_module('network.stdcnet')
    for net in (stdcnet.STDCNet813, stdcnet.STDCNet1446):
        net.init_weight = lambda self, pretrain_model: self.init_params()
    sfnet_stdcnet = importlib.import_module('network.sfnet_stdcnet')
    builder = getattr(sfnet_stdcnet,
                      f'AlignedSTDC{version}_SFV2_spatial_atten')
    return builder(NUM_CLASSES, criterion=None)


def build_ours(config_name):
    from mmseg_face.utils.complexity import build_segmentor_from_config
    model, _ = build_segmentor_from_config(osp.join(CONFIG_DIR, config_name))
    return model


def rename(key, rules):
    """Apply the first matching ``(pattern, replacement)`` of ``rules``;
    None when the replacement is None, the key itself when none matches."""
    for pattern, replacement in rules:
        if re.match(pattern, key):
            return None if replacement is None else re.sub(
                pattern, replacement, key)
    return key


# Conv + BN Sequentials of the official become ConvModules (conv, bn).
HEAD_RULES = [
    (r'^head\.dsn\.', None),
    (r'^head\.ppm\.stages\.(\d+)\.1\.', r'decode_head.ppm.stages.\1.1.conv.'),
    (r'^head\.ppm\.stages\.(\d+)\.2\.', r'decode_head.ppm.stages.\1.1.bn.'),
    (r'^head\.ppm\.bottleneck\.0\.', 'decode_head.ppm.bottleneck.conv.'),
    (r'^head\.ppm\.bottleneck\.1\.', 'decode_head.ppm.bottleneck.bn.'),
    (r'^head\.fpn_in\.(\d+)\.0\.', r'decode_head.lateral_convs.\1.conv.'),
    (r'^head\.fpn_in\.(\d+)\.1\.', r'decode_head.lateral_convs.\1.bn.'),
    (r'^head\.fpn_out\.(\d+)\.0\.0\.', r'decode_head.fpn_convs.\1.conv.'),
    (r'^head\.fpn_out\.(\d+)\.0\.1\.', r'decode_head.fpn_convs.\1.bn.'),
    (r'^head\.fpn_out_align\.(\d+)\.down_h\.',
     r'decode_head.align_modules.\1.squeeze_coarse.'),
    (r'^head\.fpn_out_align\.(\d+)\.down_l\.',
     r'decode_head.align_modules.\1.squeeze_fine.'),
    (r'^head\.fpn_out_align\.(\d+)\.flow_make\.',
     r'decode_head.align_modules.\1.flow_conv.'),
    (r'^head\.flow_align_module\.down_h\.',
     'decode_head.align_module.squeeze_coarse.'),
    (r'^head\.flow_align_module\.down_l\.',
     'decode_head.align_module.squeeze_fine.'),
    (r'^head\.flow_align_module\.flow_make\.',
     'decode_head.align_module.flow_conv.'),
    (r'^head\.flow_align_module\.flow_gate\.0\.',
     'decode_head.align_module.gate_conv.'),
    (r'^head\.conv_last\.0\.0\.', 'decode_head.fpn_bottleneck.conv.'),
    (r'^head\.conv_last\.0\.1\.', 'decode_head.fpn_bottleneck.bn.'),
    (r'^head\.conv_last\.1\.', 'decode_head.conv_seg.'),
]

# Official stem: layer0 = (conv1 = conv, bn, relu, conv, bn, relu, conv;
# bn1; relu; maxpool); mmseg's deep stem is one Sequential of 3 conv-bn-relu.
RESNET_RULES = [
    (r'^layer0\.0\.([0-6])\.', r'backbone.stem.\1.'),
    (r'^layer0\.1\.', 'backbone.stem.7.'),
    (r'^(layer[1-4]\.)', r'backbone.\1'),
]


def resnet_key_map(key, unused_laterals=()):
    if any(key.startswith(f'head.fpn_in.{i}.') for i in unused_laterals):
        return None
    return rename(key, RESNET_RULES + HEAD_RULES)


def stdc_key_map(version, key):
    if re.match(r'^backbone\.(x\d+|conv_last|fc|bn|linear)\.', key):
        return None
    match = re.match(r'^backbone\.features\.(\d+)\.(.*)$', key)
    if not match:
        return rename(key, HEAD_RULES)
    index, rest = int(match.group(1)), match.group(2)
    if index < 2:  # the two stride-2 ConvX: conv, bn
        return f'backbone.stages.{index}.{rest}'
    index -= 2
    for stage, blocks in enumerate(STDC_STAGE_BLOCKS[version], start=2):
        if index < blocks:
            break
        index -= blocks
    rest = rename(rest, [(r'^conv_list\.', 'layers.'),
                         (r'^avd_layer\.0\.', 'downsample.conv.'),
                         (r'^avd_layer\.1\.', 'downsample.bn.')])
    return f'backbone.stages.{stage}.{index}.{rest}'


def original_logits(model, inputs):
    return model(inputs)


def our_logits(model, inputs):
    return model.encode_decode(inputs, None)


def case(name, build_original, config_name, key_map):
    return ParityCase(
        name=name,
        repo=REPO,
        build_original=build_original,
        build_ours=functools.partial(build_ours, config_name),
        key_map=key_map,
        original_logits=original_logits,
        our_logits=our_logits,
        modules=('network', ) + STAND_INS)


CASES = [
    case('SFNet-R18',
         functools.partial(build_resnet_original,
                           builder='DeepR18_SF_deeply'),
         'sfnet_r18_8xb2_512x512_56k_celebamask-hq.py', resnet_key_map),
    case('SFNet-Lite-R18',
         functools.partial(build_resnet_original,
                           builder='DeepR18_SFV2_deeply_dsn_FA_Atten'),
         'sfnet_lite_r18_8xb2_512x512_186k_celebamask-hq.py',
         functools.partial(resnet_key_map, unused_laterals=(2, ))),
    case('SFNet-Lite-STDC1',
         functools.partial(build_stdc_original, version=1),
         'sfnet_lite_stdc1_8xb2_512x512_186k_celebamask-hq.py',
         functools.partial(stdc_key_map, 1)),
    case('SFNet-Lite-STDC2',
         functools.partial(build_stdc_original, version=2),
         'sfnet_lite_stdc2_8xb2_512x512_186k_celebamask-hq.py',
         functools.partial(stdc_key_map, 2)),
]
