"""SR-Net (deep-stem R50-D8 + SRHead + auxiliary head): exact size, the
channel reasoning by hand, output stride and full-size simple_test."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv import Config
from mmseg.models import build_head

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.models.decode_heads.sr_head import ChannelReasonModule
from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         count_parameters)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'srnet',
                  'srnet_r50-d8_512x512_80k_celebamask-hq.py')


def srnet():
    model, _ = build_segmentor_from_config(Config.fromfile(CONFIG))
    return model


def test_srnet_parameters_match_the_official_count():
    # The survey's count of the official SRNet_r50 (19 classes), auxiliary
    # head included; the ImageNet fc of the trunk is not part of SRNet.
    model = srnet()
    reasoning = (3 * 512 * 256  # theta, phi, g
                 + 512 + 2 * 512  # grouped out conv, GroupNorm
                 + 32 * 32 + 2 * 32 + 8 * 8 + 2 * 8)  # node/feature updates
    assert count_parameters(model.decode_head.reasoning) == reasoning \
        == 395_920
    assert count_parameters(model.decode_head) == (
        2048 * 512 + 512  # 1x1 in conv with bias
        + reasoning
        + 9 * 512 * 512 + 512 + 2 * 512  # 3x3 conv with bias + BN
        + 512 * 19 + 19) == 3_815_587
    assert count_parameters(model.auxiliary_head) == (
        9 * 1024 * 256 + 256 + 2 * 256 + 256 * 19 + 19) == 2_364_947
    # Deep-stem ResNet-50 (64-64-128 stem).
    assert count_parameters(model.backbone) == 23_631_808
    assert count_parameters(model) == 29_812_342


def test_channel_scale_regroups_and_flattens_as_the_original():
    # 4 channels, 2 nodes of 2 features; the squeezed products are 1..4.
    module = ChannelReasonModule(4, 4, node_num=2).eval()
    torch.nn.init.zeros_(module.node_conv.weight)  # node update adds 0
    with torch.no_grad():
        module.feature_conv.weight.copy_(torch.eye(2).view(2, 2, 1))
    phi = torch.tensor([1., 2., 3., 4.]).view(1, 4, 1, 1)
    g = torch.ones(1, 4, 1, 1)
    scale = module.channel_scale(phi, g).flatten()
    # Channel c is node c % 2, feature c // 2: nodes [[1, 3], [2, 4]]; the
    # result is flattened node-major, so channels get 1, 3, 2, 4 (times the
    # eval-mode BN's 1 / sqrt(1 + eps)).
    bn = 1 / math.sqrt(1 + 1e-5)
    assert scale.tolist() == pytest.approx([1 * bn, 3 * bn, 2 * bn, 4 * bn])


def test_channel_reason_module_is_residual_and_checks_sizes():
    module = ChannelReasonModule(8, 4, node_num=2).eval()
    torch.nn.init.zeros_(module.out_norm.weight)  # GN output is 0
    x = torch.randn(2, 8, 5, 3)
    assert torch.equal(module(x), x)
    with pytest.raises(ValueError, match=r'node_num \(3\) must divide '
                       r'reason_channels \(4\)'):
        ChannelReasonModule(8, 4, node_num=3)


def test_logits_at_stride_8_and_full_size_prediction():
    model = srnet()
    img = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feats = model.extract_feat(img)
        assert model.decode_head(feats).shape == (1, 19, 8, 8)
        assert model.auxiliary_head(feats).shape == (1, 19, 8, 8)
        meta = dict(ori_shape=(64, 64, 3), img_shape=(64, 64, 3),
                    pad_shape=(64, 64, 3), flip=False)
        (prediction, ) = model.simple_test(img, [meta])
    assert prediction.shape == (64, 64)
    assert set(np.unique(prediction)) <= set(range(19))


def test_small_sr_head_builds_from_the_registry():
    head = build_head(dict(type='SRHead', in_channels=16, channels=8,
                           reason_channels=4, node_num=2, num_classes=3))
    assert head([torch.randn(2, 16, 6, 6)]).shape == (2, 3, 6, 6)
