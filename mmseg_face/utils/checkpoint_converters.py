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


def deep_stem_resnet_config(state_dict):
    """The mmseg ``ResNet`` config that converted CE2P weights are for.

    The depth follows from the blocks per stage (and the block type: only
    bottlenecks have ``conv3``), as in ``ResNet.arch_settings``.

    Args:
        state_dict (dict): Converted keys (``stem.*``, ``layer1-4.*``).

    Returns:
        dict: Backbone config for ``build_backbone``.

    Raises:
        ValueError: If the blocks match no ResNet depth.
    """
    from mmseg.models.backbones import ResNet
    from mmseg.models.backbones.resnet import Bottleneck
    blocks = tuple(
        len({key.split('.')[1] for key in state_dict
             if key.startswith(f'layer{stage}.')}) for stage in range(1, 5))
    bottleneck = 'layer1.0.conv3.weight' in state_dict
    for depth, (block, stage_blocks) in ResNet.arch_settings.items():
        if tuple(stage_blocks) == blocks and \
                (block is Bottleneck) == bottleneck:
            return dict(type='ResNet', depth=depth, deep_stem=True,
                        stem_channels=128, style='pytorch')
    depths = ', '.join(map(str, ResNet.arch_settings))
    raise ValueError(f'layer1-4 hold {blocks} blocks, which no ResNet depth '
                     f'of mmseg has ({depths})')
