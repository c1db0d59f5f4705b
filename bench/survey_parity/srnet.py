"""SR-Net R50-D8 against lxtGH/SFSegNets' ``network.srnet.SRNet_r50``.

The original is built unmodified. Stand-ins for what the CPU bench lacks,
none of which changes a layer:

- ``config``: only ``cfg.MODEL.BNFUNC = nn.BatchNorm2d`` (the original's
  non-SyncBN setting; the real module needs apex and runx);
- ``apex``: ``amp.float_function`` as a no-op decorator;
- ``network.resnet_d.resnet50`` with ``pretrained=False`` (the original
  reads ``./pretrained_models/resnet50-deep.pth``).

Both run at 256x256 (the network is fully convolutional; the auxiliary
head is compared through the weight copy only, a training-time output).
"""
import functools
import re
import sys
import types

from survey_parity import ParityCase

CONFIG = 'local_configs/srnet/srnet_r50-d8_512x512_80k_celebamask-hq.py'
# SFSegNets' deep stem: layer0 = (conv1 Sequential, bn1, relu, maxpool).
STEM = {'0.0': 'stem.0', '0.1': 'stem.1', '0.3': 'stem.3', '0.4': 'stem.4',
        '0.6': 'stem.6', '1': 'stem.7'}
REASONING = {'t': 'theta_conv', 'p': 'phi_conv', 'g': 'g_conv',
             'z': 'out_conv', 'gn': 'out_norm', 'conv_adj': 'node_conv',
             'bn_adj': 'node_norm', 'conv_wg': 'feature_conv',
             'bn_wg': 'feature_norm'}
# Index in the original's final / aux Sequential -> our module.
HEAD = {'0': 'bottleneck.conv', '1': 'bottleneck.bn', '4': 'conv_seg'}
AUX = {'0': 'conv.conv', '1': 'conv.bn', '4': 'conv_seg'}


def _install_stand_ins():
    import torch.nn as nn
    config = types.ModuleType('config')
    config.cfg = types.SimpleNamespace(
        MODEL=types.SimpleNamespace(BNFUNC=nn.BatchNorm2d))
    apex = types.ModuleType('apex')
    apex.amp = types.SimpleNamespace(float_function=lambda function: function)
    sys.modules.update(config=config, apex=apex)


def build_original(source_dir):
    _install_stand_ins()
    from network import resnet_d, srnet
    resnet_d.resnet50 = functools.partial(resnet_d.resnet50,
                                          pretrained=False)
    return srnet.SRNet_r50(19, criterion=None)


def build_ours():
    from mmseg_face.utils.complexity import build_segmentor_from_config
    return build_segmentor_from_config(CONFIG)[0]


def key_map(key):
    match = re.match(r'layer0\.(\d(?:\.\d)?)\.(\w+)$', key)
    if match:
        return f'backbone.{STEM[match[1]]}.{match[2]}'
    if key.startswith('layer'):
        return f'backbone.{key}'
    match = re.match(r'head\.module\.(\w+)\.(\w+)$', key)
    if match:
        return f'decode_head.reasoning.{REASONING[match[1]]}.{match[2]}'
    match = re.match(r'head\.in_module\.(\w+)$', key)
    if match:
        return f'decode_head.in_conv.conv.{match[1]}'
    match = re.match(r'head\.final\.(\d)\.(\w+)$', key)
    if match:
        return f'decode_head.{HEAD[match[1]]}.{match[2]}'
    index, leaf = re.match(r'aux_layer\.aux\.(\d)\.(\w+)$', key).groups()
    return f'auxiliary_head.{AUX[index]}.{leaf}'


CASES = [
    ParityCase(
        name='SR-Net R50-D8 (aux)',
        repo='lxtGH+SFSegNets',
        build_original=build_original,
        build_ours=build_ours,
        key_map=key_map,
        original_logits=lambda model, x: model(x),
        our_logits=lambda model, x: model.encode_decode(x, [{}]),
        input_shape=(1, 3, 256, 256),
        modules=('network', 'config', 'apex'))
]
