"""Rename NVIDIA-style deep-stem ImageNet ResNets to mmseg's ``ResNet`` keys.

SR-Net (lxtGH/SFSegNets ``network/resnet_d.py``) starts from
``pretrained_models/resnet50-deep.pth`` / ``resnet101-deep.pth``: a ResNet
whose stem is one ``conv1`` Sequential (3x3 convs 3->64 stride 2, 64->64,
64->128 with BN + ReLU between them) followed by ``bn1``. mmseg's
``ResNet(deep_stem=True, stem_channels=128)`` holds the same layers as
``stem.0 .. stem.8``; the residual stages share torchvision's names.
"""
import re
from collections import OrderedDict

from .checkpoint_converters import _unwrapped, deep_stem_resnet_config

# Original ``conv1.<index>`` / ``bn1`` -> mmseg ``stem.<index>``. The stem's
# ReLUs (conv1.2, conv1.5, and mmseg's stem.2, 5, 8) hold no weights.
_DEEP_STEM = {'conv1.0': 'stem.0', 'conv1.1': 'stem.1', 'conv1.3': 'stem.3',
              'conv1.4': 'stem.4', 'conv1.6': 'stem.6', 'bn1': 'stem.7'}
_STEM_KEY = re.compile(r'^(conv1\.\d+|bn1)\.(.+)$')


def convert_deep_stem_resnet(state_dict):
    """Map a deep-stem (``conv1.0-6``, ``bn1``) ImageNet ResNet to mmseg's.

    The ImageNet classifier ``fc`` is dropped: the segmentation backbone has
    none.

    Args:
        state_dict (dict): The checkpoint's tensors, optionally under
            ``state_dict`` and with a ``module.`` prefix.

    Returns:
        OrderedDict: Keys of ``ResNet(deep_stem=True, stem_channels=128)``
        for ``init_cfg=dict(type='Pretrained')``.

    Raises:
        KeyError: If a key is neither of the stem, ``layer1-4`` nor ``fc``.
    """
    converted = OrderedDict()
    for key, value in _unwrapped(state_dict).items():
        if key.startswith('fc.'):
            continue
        stem = _STEM_KEY.match(key)
        if stem and stem.group(1) in _DEEP_STEM:
            key = f'{_DEEP_STEM[stem.group(1)]}.{stem.group(2)}'
        elif not re.match(r'layer[1-4]\.', key):
            raise KeyError(
                f'unexpected key {key!r} in a deep-stem ResNet checkpoint '
                '(expected conv1.0/1/3/4/6, bn1, layer1-4, fc)')
        converted[key] = value
    return converted


def convert_deep_stem_resnet_file(src, dst):
    """Convert a deep-stem ImageNet ResNet file for mmseg's ``ResNet``.

    What ``tools/model_converters/deep_stem_resnet.py SRC DST`` does: reads
    ``src`` (see :func:`convert_deep_stem_resnet`), checks the result
    against the mmseg ResNet of its depth and writes it with that backbone
    config in its meta.

    Args:
        src (str): The original file, e.g. SFSegNets' ``resnet50-deep.pth``.
        dst (str): The converted checkpoint, written atomically.

    Returns:
        str: A one-line summary of what was written.

    Raises:
        FileNotFoundError: If ``src`` does not exist.
        CheckpointError: If ``src`` is not a deep-stem ResNet checkpoint or
            does not fit mmseg's ResNet of its depth (the message names it).
    """
    from mmseg.models import build_backbone

    from .checkpoint import (CheckpointError, check_fit, load_from_local,
                             save_weights)
    try:
        state_dict = convert_deep_stem_resnet(
            load_from_local(src, map_location='cpu'))
        backbone = deep_stem_resnet_config(state_dict)
    except (KeyError, ValueError) as error:
        raise CheckpointError(src, error.args[0]) from error
    check_fit(build_backbone(backbone), state_dict, src)
    save_weights(state_dict, dst, meta=dict(backbone=backbone))
    return (f'wrote {len(state_dict)} tensors for ResNet-{backbone["depth"]}'
            f' to {dst}')
