"""CE2P deep-stem ResNet keys map onto mmseg's ResNet used by EAGR."""
import pytest
import torch
from ce2p_checkpoint import as_ce2p
from mmseg.models import build_backbone

from mmseg_face.utils.checkpoint_converters import (convert_ce2p_resnet,
                                                    deep_stem_resnet_config)


def _deep_stem_resnet(depth):
    return build_backbone(dict(type='ResNet', depth=depth, deep_stem=True,
                               stem_channels=128, style='pytorch'))


def test_converted_ce2p_checkpoint_loads_strictly(run_tool, tmp_path):
    source = _deep_stem_resnet(50)
    path = tmp_path / 'ce2p.pth'
    torch.save(as_ce2p(source.state_dict()), path)
    result = run_tool(['python', 'tools/model_converters/ce2p_resnet.py',
                       path, tmp_path / 'out' / 'converted.pth'])
    assert result.returncode == 0, result.stderr[-3000:]
    converted = torch.load(tmp_path / 'out' / 'converted.pth')['state_dict']
    target = _deep_stem_resnet(50)
    target.load_state_dict(converted, strict=True)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
    assert converted['stem.6.weight'].shape == (128, 64, 3, 3)


def test_depth_follows_from_the_blocks():
    for depth in (18, 34, 50, 101):
        weights = _deep_stem_resnet(depth).state_dict()
        assert deep_stem_resnet_config(weights)['depth'] == depth
    one_block_less = {k: v for k, v in _deep_stem_resnet(50).state_dict()
                      .items() if not k.startswith('layer3.5.')}
    with pytest.raises(ValueError, match=r'\(3, 4, 5, 3\) blocks'):
        deep_stem_resnet_config(one_block_less)


def test_unexpected_keys_are_named():
    with pytest.raises(KeyError, match='aux_head.weight'):
        convert_ce2p_resnet({'conv1.weight': torch.zeros(1),
                             'aux_head.weight': torch.zeros(1)})
