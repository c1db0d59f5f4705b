"""Rename the keys of original-repo checkpoints to mmseg_face modules."""
import re
from collections import OrderedDict

# CE2P/EAGRNet deep stem (three 3x3 convs) -> mmseg ResNet(deep_stem=True).
_CE2P_STEM = {'conv1': 'stem.0', 'bn1': 'stem.1', 'conv2': 'stem.3',
              'bn2': 'stem.4', 'conv3': 'stem.6', 'bn3': 'stem.7'}


def convert_ce2p_resnet(state_dict):
    """Map a CE2P-style deep-stem ImageNet ResNet to mmseg's ``ResNet`` keys.

    The original EAGRNet initialises from CE2P's ``resnet101-imagenet.pth``,
    whose stem is ``conv1/bn1 .. conv3/bn3``; mmseg's ``ResNet(deep_stem=
    True, stem_channels=128)`` names the same layers ``stem.0/1, 3/4, 6/7``.
    Residual layers share torchvision's names; the classifier is dropped.

    Args:
        state_dict (dict): The checkpoint's tensors, optionally under
            ``state_dict`` and with a ``module.`` prefix.

    Returns:
        OrderedDict: Backbone keys for ``init_cfg=dict(type='Pretrained')``.
    """
    state_dict = state_dict.get('state_dict', state_dict)
    converted = OrderedDict()
    for key, value in state_dict.items():
        key = re.sub(r'^module\.', '', key)
        if key.startswith('fc.'):
            continue
        head, _, rest = key.partition('.')
        if head in _CE2P_STEM:
            key = f'{_CE2P_STEM[head]}.{rest}'
        elif not re.match(r'layer[1-4]\.', key):
            raise KeyError(f'unexpected key {key!r} in a CE2P ResNet '
                           'checkpoint (expected conv1-3, bn1-3, layer1-4, fc)')
        converted[key] = value
    return converted
