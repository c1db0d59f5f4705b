"""SFNet's ImageNet ResNet-18 (resnet_d layout) maps onto
Conv2DilatedResNetV1c, and a wrong file is refused by name."""
import re

import pytest
import torch
from mmseg.models import build_backbone

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.utils.checkpoint import CheckpointError
from mmseg_face.utils.resnet_converter import convert_deep_stem_resnet
from mmseg_face.utils.sfnet_converter import (SFNET_RESNET18,
                                              convert_sfnet_resnet_file)

# Ours -> the official layout (network/resnet_d.py), the inverse of the
# converter's renaming, written out independently.
TO_OFFICIAL = [(r'^stem\.7\.', 'bn1.'), (r'^stem\.([0-6])\.', r'conv1.\1.')]


def as_official(state_dict):
    official = {}
    for key, value in state_dict.items():
        for pattern, replacement in TO_OFFICIAL:
            key = re.sub(pattern, replacement, key)
        official[key] = value
    official['fc.weight'] = torch.randn(1000, 512)
    official['fc.bias'] = torch.randn(1000)
    return official


def test_converted_weights_load_strictly(tmp_path):
    source = build_backbone(SFNET_RESNET18)
    src = tmp_path / 'resnet18-deep-inplane128.pth'
    torch.save(as_official(source.state_dict()), src)
    dst = tmp_path / 'out' / 'converted.pth'
    assert 'wrote' in convert_sfnet_resnet_file(str(src), str(dst))
    checkpoint = torch.load(dst)
    assert checkpoint['meta']['source']['file'] == src.name
    target = build_backbone(SFNET_RESNET18)
    target.load_state_dict(checkpoint['state_dict'], strict=True)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
    assert checkpoint['state_dict']['stem.6.weight'].shape == (128, 64, 3,
                                                               3)


def test_unexpected_key_is_named():
    with pytest.raises(KeyError, match='aux.weight'):
        convert_deep_stem_resnet({'conv1.0.weight': torch.zeros(1),
                              'aux.weight': torch.zeros(1)})


def test_wrong_file_names_itself(tmp_path, run_tool):
    # A torchvision ResNet-18 (7x7 stem) is not SFNet's deep-stem one.
    src = tmp_path / 'resnet18-5c106cde.pth'
    torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7),
                'bn1.weight': torch.zeros(64)}, src)
    with pytest.raises(CheckpointError, match=str(src)):
        convert_sfnet_resnet_file(str(src), str(tmp_path / 'x.pth'))
    result = run_tool(['python', 'tools/model_converters/sfnet_resnet.py',
                       src, tmp_path / 'x.pth'])
    assert result.returncode != 0
    assert 'resnet18-5c106cde.pth' in result.stderr
    assert 'Traceback' not in result.stderr
