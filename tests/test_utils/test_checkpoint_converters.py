"""CE2P deep-stem ResNet keys map onto mmseg's ResNet used by EAGR."""
import pytest
import torch
from mmseg.models import build_backbone

from mmseg_face.utils.checkpoint_converters import convert_ce2p_resnet

STEM_RENAMES = {'stem.0': 'conv1', 'stem.1': 'bn1', 'stem.3': 'conv2',
                'stem.4': 'bn2', 'stem.6': 'conv3', 'stem.7': 'bn3'}


def _deep_stem_resnet(depth):
    return build_backbone(dict(type='ResNet', depth=depth, deep_stem=True,
                               stem_channels=128, style='pytorch'))


def _as_ce2p(state_dict):
    """Write mmseg's keys the way CE2P's ResNet names them (by hand)."""
    renamed = {}
    for key, value in state_dict.items():
        for ours, theirs in STEM_RENAMES.items():
            if key.startswith(ours + '.'):
                key = theirs + key[len(ours):]
        renamed['module.' + key] = value.clone()
    renamed['module.fc.weight'] = torch.zeros(1000, 2048)
    return dict(state_dict=renamed)


def test_converted_ce2p_checkpoint_loads_strictly(run_tool, tmp_path):
    source = _deep_stem_resnet(50)
    path = tmp_path / 'ce2p.pth'
    torch.save(_as_ce2p(source.state_dict()), path)
    result = run_tool(['python', 'tools/model_converters/ce2p_resnet.py',
                       path, tmp_path / 'out' / 'converted.pth'])
    assert result.returncode == 0, result.stderr[-3000:]
    converted = torch.load(tmp_path / 'out' / 'converted.pth')
    target = _deep_stem_resnet(50)
    target.load_state_dict(converted, strict=True)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
    assert converted['stem.6.weight'].shape == (128, 64, 3, 3)


def test_unexpected_keys_are_named():
    with pytest.raises(KeyError, match='aux_head.weight'):
        convert_ce2p_resnet({'conv1.weight': torch.zeros(1),
                             'aux_head.weight': torch.zeros(1)})
