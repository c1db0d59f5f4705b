"""RegSeg (RegSegNet exp48 + RegSegHead): exact size, strides, blocks."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmseg.models import build_backbone, build_head

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.models.backbones.regseg import DBlock, SplitDilatedConv
from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         count_parameters)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'regseg',
                  'regseg_exp48_8x1_512x512_160k_celebamask-hq.py')


def regseg_head(**kwargs):
    cfg = dict(type='RegSegHead', in_channels=(48, 128, 320),
               in_index=(0, 1, 2), channels=64, dropout_ratio=0,
               num_classes=19, norm_cfg=dict(type='BN'))
    cfg.update(kwargs)
    return build_head(cfg)


@pytest.fixture(scope='module')
def segmentor():
    return build_segmentor_from_config(CONFIG)[0]


def test_parameter_count_is_the_originals(segmentor):
    # RolandGao/RegSeg's RegSeg('exp48_decoder26', 19): stem 928, body
    # 3,159,076, decoder 174,947 (survey measurement). RegSeg has no
    # auxiliary head, so everything is counted.
    assert count_parameters(segmentor.backbone.stem) == 928
    assert count_parameters(segmentor.backbone.stages) == 3_159_076
    assert count_parameters(segmentor.decode_head) == 174_947
    assert count_parameters(segmentor) == 3_334_951
    assert not segmentor.with_auxiliary_head


def test_exp48_blocks_and_dilations(segmentor):
    stages = segmentor.backbone.stages
    assert [len(stage) for stage in stages] == [1, 3, 14]
    dilations = [[conv.dilation[0] for conv in block.conv2.convs]
                 for block in stages[2]]
    assert dilations == [[1], [1], [1, 2]] + [[1, 4]] * 4 + [[1, 14]] * 7
    # SE squeezes to a quarter of the block's input width.
    assert [block.se.reduce.conv.out_channels for block in stages[2]] == \
        [32] + [64] * 13
    # Groups of 16 channels; two dilations split 256 channels into 2 x 128.
    assert stages[2][0].conv2.convs[0].groups == 16
    assert stages[2][2].conv2.convs[1].groups == 8


def test_forward_shapes_at_512(segmentor):
    img = torch.randn(1, 3, 512, 512)
    with torch.no_grad():
        feats = segmentor.extract_feat(img)
        assert [tuple(f.shape) for f in feats] == [(1, 48, 128, 128),
                                                   (1, 128, 64, 64),
                                                   (1, 320, 32, 32)]
        # The decoder predicts at 1/4, as the original's classifier.
        logits = segmentor.decode_head(feats)
        assert logits.shape == (1, 19, 128, 128)
        full = segmentor.encode_decode(img, [{}])
    assert full.shape == (1, 19, 512, 512)
    expected = F.interpolate(logits, size=(512, 512), mode='bilinear',
                             align_corners=False)
    assert torch.allclose(full, expected)


def test_simple_test_predicts_at_the_original_size(segmentor):
    img = torch.randn(1, 3, 64, 96)
    meta = dict(ori_shape=(80, 120, 3), img_shape=(64, 96, 3),
                pad_shape=(64, 96, 3), flip=False)
    with torch.no_grad():
        (pred, ) = segmentor.simple_test(img, [meta], rescale=True)
    assert pred.shape == (80, 120)
    assert 0 <= pred.min() and pred.max() < 19


def test_split_dilated_conv_is_per_split_dilated_convs():
    torch.manual_seed(0)
    conv = SplitDilatedConv(32, (1, 3), group_width=8)
    x = torch.randn(2, 32, 9, 9)
    out = conv(x)
    first = F.conv2d(x[:, :16], conv.convs[0].weight, padding=1, groups=2)
    second = F.conv2d(x[:, 16:], conv.convs[1].weight, padding=3,
                      dilation=3, groups=2)
    assert torch.allclose(out, torch.cat([first, second], 1), atol=1e-6)


def test_split_dilated_conv_rejects_uneven_splits():
    with pytest.raises(ValueError, match='do not split into 3 parts'):
        SplitDilatedConv(32, (1, 2, 4), group_width=8)
    with pytest.raises(ValueError, match='groups of 16'):
        SplitDilatedConv(48, (1, 2), group_width=16)


def test_dblock_shortcuts():
    strided = DBlock(32, 48, (1, ), 16, stride=2)
    assert isinstance(strided.shortcut[0], torch.nn.AvgPool2d)
    assert strided.shortcut[0].ceil_mode
    # Odd sizes: the strided conv and the ceil-mode average pool agree.
    assert strided(torch.randn(1, 32, 9, 7)).shape == (1, 48, 5, 4)
    widened = DBlock(256, 320, (1, 14), 16)
    assert widened.shortcut.conv.kernel_size == (1, 1)
    assert isinstance(DBlock(64, 64, (1, ), 16).shortcut, torch.nn.Identity)


def test_unknown_arch_is_named():
    with pytest.raises(ValueError,
                       match=r"'exp99' is not one of \['exp48'\]"):
        build_backbone(dict(type='RegSegNet', arch='exp99'))


def test_head_checks_its_projections():
    with pytest.raises(ValueError, match=r'\(8, 128, 96\)'):
        regseg_head(project_channels=(8, 128, 96))
    with pytest.raises(ValueError, match='three inputs'):
        regseg_head(in_channels=(128, 320), in_index=(1, 2))
