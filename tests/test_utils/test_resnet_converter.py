"""NVIDIA-style deep-stem ResNet keys (SR-Net's ImageNet initialisation) map
onto mmseg's ResNet(deep_stem=True, stem_channels=128)."""
import pytest
import torch
from mmseg.models import build_backbone

from mmseg_face.utils.resnet_converter import convert_deep_stem_resnet

# mmseg stem index -> the original's name, written out by hand from
# SFSegNets' network/resnet_d.py (conv1 Sequential + bn1).
ORIGINAL_STEM = {'stem.0': 'conv1.0', 'stem.1': 'conv1.1',
                 'stem.3': 'conv1.3', 'stem.4': 'conv1.4',
                 'stem.6': 'conv1.6', 'stem.7': 'bn1'}


def _deep_stem_resnet(depth=50):
    return build_backbone(dict(type='ResNet', depth=depth, deep_stem=True,
                               stem_channels=128, style='pytorch'))


def _as_original(state_dict):
    """mmseg keys renamed to the original's, wrapped as a DDP checkpoint with
    the ImageNet classifier the original file has."""
    renamed = {}
    for key, value in state_dict.items():
        module, _, rest = key.partition('.')
        prefix = f'{module}.{rest.split(".")[0]}'
        if prefix in ORIGINAL_STEM:
            key = ORIGINAL_STEM[prefix] + key[len(prefix):]
        renamed['module.' + key] = value.clone()
    renamed['module.fc.weight'] = torch.zeros(1000, 2048)
    renamed['module.fc.bias'] = torch.zeros(1000)
    return dict(state_dict=renamed)


def test_synthetic_deep_stem_checkpoint_converts_exactly():
    source = _deep_stem_resnet()
    original = _as_original(source.state_dict())
    assert 'module.conv1.6.weight' in original['state_dict']
    assert 'module.bn1.running_var' in original['state_dict']
    converted = convert_deep_stem_resnet(original)
    assert not any(key.startswith('fc.') for key in converted)
    assert converted['stem.6.weight'].shape == (128, 64, 3, 3)
    assert converted['stem.7.weight'].shape == (128, )
    target = _deep_stem_resnet()
    target.load_state_dict(converted, strict=True)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key


def test_converter_tool_writes_a_fitting_checkpoint(run_tool, tmp_path):
    source = _deep_stem_resnet()
    path = tmp_path / 'resnet50-deep.pth'
    torch.save(_as_original(source.state_dict()), path)
    out = tmp_path / 'out' / 'converted.pth'
    result = run_tool(['python', 'tools/model_converters/deep_stem_resnet.py',
                       path, out])
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'ResNet-50' in result.stdout
    checkpoint = torch.load(out)
    assert checkpoint['meta']['backbone']['stem_channels'] == 128
    _deep_stem_resnet().load_state_dict(checkpoint['state_dict'],
                                        strict=True)


def test_unexpected_keys_are_named():
    with pytest.raises(KeyError, match='conv1.2.weight'):
        convert_deep_stem_resnet({'conv1.2.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match='aux_head.weight'):
        convert_deep_stem_resnet({'conv1.0.weight': torch.zeros(1),
                                  'aux_head.weight': torch.zeros(1)})


def test_a_file_of_another_layout_fails_naming_the_file(run_tool, tmp_path):
    path = tmp_path / 'torchvision_resnet50.pth'
    torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7),
                'bn1.weight': torch.zeros(64)}, path)
    result = run_tool(['python', 'tools/model_converters/deep_stem_resnet.py',
                       path, tmp_path / 'out.pth'])
    assert result.returncode == 1
    assert 'torchvision_resnet50.pth' in result.stderr
    assert "'conv1.weight'" in result.stderr
