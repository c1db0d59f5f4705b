"""SFNet's ImageNet ResNet-18 (``resnet18-deep-inplane128.pth``) for
:class:`~mmseg_face.models.backbones.Conv2DilatedResNetV1c`."""
import os.path as osp
import re
from collections import OrderedDict

# Official deep stem ``conv1`` = (conv, BN, ReLU, conv, BN, ReLU, conv) and a
# separate ``bn1``; mmseg's ``stem`` is one Sequential of 3 conv-BN-ReLU.
_STEM = {'conv1.0': 'stem.0', 'conv1.1': 'stem.1', 'conv1.3': 'stem.3',
         'conv1.4': 'stem.4', 'conv1.6': 'stem.6', 'bn1': 'stem.7'}

# The backbone the converted weights are for: SFNet's ResNet-18.
SFNET_RESNET18 = dict(
    type='Conv2DilatedResNetV1c',
    depth=18,
    stem_channels=128,
    strides=(1, 2, 2, 2),
    dilations=(1, 1, 2, 4),
    style='pytorch')


def convert_sfnet_resnet(state_dict):
    """Rename SFNet's ImageNet ResNet (``network/resnet_d.py`` layout) to
    ``Conv2DilatedResNetV1c`` keys; the 1000-way ``fc`` is dropped.

    Args:
        state_dict (dict): The checkpoint's tensors, optionally under
            ``state_dict`` and with a ``module.`` prefix.

    Returns:
        OrderedDict: Backbone keys for ``init_cfg=dict(type='Pretrained')``.

    Raises:
        KeyError: Naming the first key that is not part of such a ResNet.
    """
    state_dict = state_dict.get('state_dict', state_dict)
    converted = OrderedDict()
    for key, value in state_dict.items():
        key = re.sub(r'^module\.', '', key)
        if key.startswith('fc.'):
            continue
        match = re.match(r'^(conv1\.\d|bn1)\.(.*)$', key)
        if match and match.group(1) in _STEM:
            key = f'{_STEM[match.group(1)]}.{match.group(2)}'
        elif not re.match(r'^layer[1-4]\.', key):
            raise KeyError(f'unexpected key {key!r} in an SFNet ResNet '
                           'checkpoint (expected conv1.0-6, bn1, layer1-4, '
                           'fc)')
        converted[key] = value
    return converted


def convert_sfnet_resnet_file(src, dst):
    """What ``tools/model_converters/sfnet_resnet.py SRC DST`` does: convert
    ``src`` with :func:`convert_sfnet_resnet`, check that it fits SFNet's
    ResNet-18 exactly and write it with its source file and sha256.

    Returns:
        str: A one-line summary of what was written.

    Raises:
        CheckpointError: If ``src`` is not such a checkpoint (the message
            names the file and the first offending key).
    """
    from mmseg.models import build_backbone

    import mmseg_face.models  # noqa: F401  (registers the backbone)
    from .checkpoint import (CheckpointError, check_fit, load_from_local,
                             save_weights)
    from .checkpoint_converters import file_sha256
    try:
        state_dict = convert_sfnet_resnet(
            load_from_local(src, map_location='cpu'))
    except KeyError as error:
        raise CheckpointError(src, error.args[0]) from error
    check_fit(build_backbone(SFNET_RESNET18), state_dict, src)
    save_weights(state_dict, dst, meta=dict(
        backbone=SFNET_RESNET18,
        source=dict(project='lxtGH/SFSegNets', file=osp.basename(src),
                    sha256=file_sha256(src)),
        converter='tools/model_converters/sfnet_resnet.py'))
    return f'wrote {len(state_dict)} tensors for SFNet ResNet-18 to {dst}'
