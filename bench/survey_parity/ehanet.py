"""EHANet-R18/R34 against JACKYLUO1991/FaceParsing's ``FaceParseNet18`` /
``FaceParseNet34`` (``networks/parsenet18.py``), built without the ImageNet
download (``pretrained=False``).

``networks/parsenet18.py`` is loaded on its own (the package's
``__init__`` imports every network of the repository). The main output is
``seg2`` (``classifier2``, on the SGCB features concatenated with the edge
features), at 1/4; it is upsampled to the input bilinearly with
``align_corners=True``, as our head does.
"""
import functools
import os.path as osp
import re

import torch.nn.functional as F

from . import ParityCase

# (original module, ours) name prefixes; the first match is used.
_PREFIXES = [
    (r'^(conv1|bn1|layer[1-4])\.', r'backbone.\1.'),
    (r'^c(\d)_a\.specificdim\.0\.',
     lambda m: f'decode_head.scams.{int(m[1]) - 2}.project.conv.'),
    (r'^c(\d)_a\.specificdim\.1\.',
     lambda m: f'decode_head.scams.{int(m[1]) - 2}.project.bn.'),
    (r'^c(\d)_a\.attention\.1\.',
     lambda m: f'decode_head.scams.{int(m[1]) - 2}.gate.1.conv.'),
    (r'^c(\d)_a\.attention\.3\.',
     lambda m: f'decode_head.scams.{int(m[1]) - 2}.gate.2.conv.'),
    # smooth1 (dilations 7, 9, 13) works at 1/4, smooth3 (1, 2, 4) at 1/16.
    (r'^smooth(\d)\.downdim\.',
     lambda m: f'decode_head.sgcbs.{int(m[1]) - 1}.reduce.'),
    (r'^smooth(\d)\.branch(\d)\.0\.',
     lambda m: f'decode_head.sgcbs.{int(m[1]) - 1}.branches.'
     f'{int(m[2]) - 1}.0.conv.'),
    (r'^smooth(\d)\.branch(\d)\.2\.',
     lambda m: f'decode_head.sgcbs.{int(m[1]) - 1}.branches.'
     f'{int(m[2]) - 1}.1.conv.'),
    (r'^smooth(\d)\.branch(\d)\.3\.',
     lambda m: f'decode_head.sgcbs.{int(m[1]) - 1}.branches.'
     f'{int(m[2]) - 1}.1.bn.'),
    (r'^edge\.conv(\d)\.([01])\.',
     lambda m: f'decode_head.boundary.convs.{int(m[1]) - 1}.0.'
     f'{"conv" if m[2] == "0" else "bn"}.'),
    (r'^edge\.conv(\d)\.([34])\.',
     lambda m: f'decode_head.boundary.convs.{int(m[1]) - 1}.1.'
     f'{"conv" if m[2] == "3" else "bn"}.'),
    (r'^edge\.conv3\.', 'decode_head.conv_edge.'),
    (r'^classifier1\.', 'decode_head.conv_seg_aux.'),
    (r'^classifier2\.', 'decode_head.conv_seg.'),
]


def key_map(key):
    for pattern, replacement in _PREFIXES:
        renamed, count = re.subn(pattern, replacement, key)
        if count:
            return renamed
    raise KeyError(f'no rule for the original key {key!r}')


def build_original(source_dir, depth):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'ehanet_parsenet18', osp.join(source_dir, 'networks', 'parsenet18.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, f'FaceParseNet{depth}')(19, pretrained=False)


def build_ours(depth):
    from mmcv import Config
    from mmseg.models import build_segmentor
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(
        root, 'local_configs', 'ehanet',
        f'ehanet_r{depth}_8xb2_512x512_200e_celebamask_hq.py'))
    cfg.model.backbone.norm_cfg = dict(type='BN')
    cfg.model.backbone.init_cfg = None
    cfg.model.decode_head.norm_cfg = dict(type='BN')
    return build_segmentor(cfg.model)


def original_logits(model, inputs):
    seg2 = model(inputs)[0][1]
    return F.interpolate(seg2, size=inputs.shape[2:], mode='bilinear',
                         align_corners=True)


def our_logits(model, inputs):
    shape = tuple(inputs.shape[2:]) + (3, )
    metas = [dict(img_shape=shape, ori_shape=shape, pad_shape=shape)]
    return model.encode_decode(inputs, metas * len(inputs))


CASES = [
    ParityCase(
        name=f'EHANet-R{depth} (FaceParseNet{depth})',
        repo='JACKYLUO1991+FaceParsing',
        build_original=functools.partial(build_original, depth=depth),
        build_ours=functools.partial(build_ours, depth),
        key_map=key_map, original_logits=original_logits,
        our_logits=our_logits)
    for depth in (18, 34)
]
