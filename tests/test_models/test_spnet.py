"""SPNet (StripPoolingResNet + SPHead): exact size, SPM placement,
dilations, strides and the two pooling modules on small tensors."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmseg.models import build_backbone

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.models.backbones.strip_pooling_resnet import StripPoolingGate
from mmseg_face.models.decode_heads.sp_head import MixedPoolingModule
from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         count_parameters)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {
    depth: osp.join(REPO_ROOT, 'local_configs', 'spnet',
                    f'spnet_r{depth}-d8_512x512_80k_celebamask-hq.py')
    for depth in (50, 101)
}
AUX_PARAMS = 2_364_691  # FCNHead on layer3: 3x3 1024->256 + BN + 1x1 ->19


@pytest.fixture(scope='module')
def spnet50():
    return build_segmentor_from_config(CONFIGS[50])[0]


@pytest.mark.parametrize('depth, backbone, total', [
    (50, 29_748_864, 47_737_254),
    (101, 48_740_992, 66_729_382),
])
def test_parameter_count_is_the_originals(depth, backbone, total):
    # houqb/SPNet's SPNet(19, resnetD, aux=True, spm_on=True), counted with
    # its FCN auxiliary head (survey measurement).
    model = build_segmentor_from_config(CONFIGS[depth])[0]
    assert count_parameters(model.backbone) == backbone
    assert count_parameters(model.decode_head) == 15_623_699
    assert count_parameters(model.auxiliary_head) == AUX_PARAMS
    assert count_parameters(model) == total


def test_spm_sits_in_the_originals_blocks(spnet50):
    gated = [(stage, index) for stage in range(1, 5)
             for index, block in enumerate(getattr(spnet50.backbone,
                                                   f'layer{stage}'))
             if hasattr(block, 'spm')]
    assert gated == [(1, 2), (2, 3), (3, 5), (4, 0), (4, 1), (4, 2)]
    block = spnet50.backbone.layer1[2]
    assert block.after_conv2_plugin_names == ['spm']
    assert block.after_conv1_plugin_names == []
    assert not spnet50.backbone.layer1[1].with_plugins


def test_dilations_and_deep_stem(spnet50):
    backbone = spnet50.backbone
    layer3 = [block.conv2.dilation[0] for block in backbone.layer3]
    layer4 = [block.conv2.dilation[0] for block in backbone.layer4]
    assert layer3 == [1, 2, 2, 2, 2, 2]
    assert layer4 == [4, 8, 16]
    assert [m.out_channels for m in backbone.stem
            if isinstance(m, torch.nn.Conv2d)] == [64, 64, 128]


def test_logits_at_stride_8_and_full_size_prediction(spnet50):
    img = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feats = spnet50.extract_feat(img)
        assert [f.shape[1:] for f in feats] == [
            (256, 16, 16), (512, 8, 8), (1024, 8, 8), (2048, 8, 8)]
        assert spnet50.decode_head(feats).shape == (1, 19, 8, 8)
        meta = dict(ori_shape=(70, 90, 3), img_shape=(64, 64, 3),
                    pad_shape=(64, 64, 3), flip=False)
        (pred, ) = spnet50.simple_test(img, [meta], rescale=True)
    assert pred.shape == (70, 90)
    assert 0 <= pred.min() and pred.max() < 19


def test_strip_pooling_gate_by_hand():
    torch.manual_seed(0)
    gate = StripPoolingGate(2, norm_cfg=dict(type='BN')).eval()
    x = torch.randn(1, 2, 3, 4)
    column_mean = x.mean(dim=3, keepdim=True)  # (1, 2, 3, 1)
    row_mean = x.mean(dim=2, keepdim=True)  # (1, 2, 1, 4)
    column = F.conv2d(column_mean, gate.column_conv.conv.weight,
                      padding=(1, 0)) / (1 + 1e-5)**0.5
    row = F.conv2d(row_mean, gate.row_conv.conv.weight,
                   padding=(0, 1)) / (1 + 1e-5)**0.5
    weight = torch.sigmoid(
        F.conv2d((column + row).relu(), gate.gate_conv.weight,
                 gate.gate_conv.bias))
    with torch.no_grad():
        assert torch.allclose(gate(x), x * weight, atol=1e-6)


def test_mixed_pooling_matches_interpolated_strips():
    """The official module upsamples the 1 x W and H x 1 strips with
    bilinear ``align_corners=True``; ours broadcasts them, which is the
    same map."""
    torch.manual_seed(0)
    mpm = MixedPoolingModule(8, pool_sizes=(3, 2),
                             norm_cfg=dict(type='BN')).eval()
    x = torch.randn(1, 8, 6, 5)

    def up(t):
        return F.interpolate(t, size=(6, 5), mode='bilinear',
                             align_corners=True)

    with torch.no_grad():
        pyramid, strip = mpm.pyramid_reduce(x), mpm.strip_reduce(x)
        local = mpm.local_conv(pyramid)
        for size, conv in zip((3, 2), mpm.pool_convs):
            local = local + up(conv(F.adaptive_avg_pool2d(pyramid, size)))
        strips = up(mpm.row_conv(F.adaptive_avg_pool2d(strip, (1, 5)))) + \
            up(mpm.column_conv(F.adaptive_avg_pool2d(strip, (6, 1))))
        expected = F.relu(x + mpm.project(torch.cat(
            [mpm.pyramid_fuse(local.relu()),
             mpm.strip_fuse(strips.relu())], 1)))
        assert torch.allclose(mpm(x), expected, atol=1e-6)


def test_mixed_pooling_on_maps_smaller_than_the_pools():
    mpm = MixedPoolingModule(8, pool_sizes=(20, 12),
                             norm_cfg=dict(type='BN')).eval()
    with torch.no_grad():
        assert mpm(torch.randn(2, 8, 4, 6)).shape == (2, 8, 4, 6)


def test_basic_block_depths_are_refused():
    with pytest.raises(ValueError, match='Bottleneck depth.*depth=18'):
        build_backbone(dict(type='StripPoolingResNet', depth=18))
