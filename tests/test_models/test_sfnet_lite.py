"""SFNet-Lite (R18, STDC1, STDC2): the V2 head, its gated dual-flow
alignment and mmseg's STDCNet keeping its 1/4 output, against the official
DeepR18_SFV2_deeply_dsn_FA_Atten / AlignedSTDC{1,2}_SFV2_spatial_atten
(lxtGH/SFSegNets)."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmseg.models import build_backbone, build_head

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.models.decode_heads.sfnet_lite_head import \
    GatedDualFlowAlignment
from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         count_parameters)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {
    variant: osp.join(REPO_ROOT, 'local_configs', 'sfnet',
                      f'sfnet_lite_{variant}_8xb2_512x512_186k_'
                      'celebamask-hq.py')
    for variant in ('r18', 'stdc1', 'stdc2')
}


def conv_bn(cin, cout, k):
    return k * k * cin * cout + 2 * cout


def lite_head(in_channels, channels=128, num_classes=19):
    return build_head(
        dict(
            type='SFNetLiteHead',
            in_channels=in_channels,
            in_index=list(range(len(in_channels))),
            channels=channels,
            num_classes=num_classes,
            dropout_ratio=0.1,
            align_corners=True,
            norm_cfg=dict(type='BN')))


def stdc_backbone(stdc_type):
    return build_backbone(
        dict(
            type='STDCNetAllLevels',
            stdc_type=stdc_type,
            in_channels=3,
            channels=(32, 64, 256, 512, 1024),
            bottleneck_type='cat',
            norm_cfg=dict(type='BN'),
            act_cfg=dict(type='ReLU')))


def test_gated_alignment_with_zero_flow_mixes_by_the_gate():
    module = GatedDualFlowAlignment(channels=8, flow_channels=4)
    fine, coarse = torch.randn(2, 8, 16, 12), torch.randn(2, 8, 8, 6)
    assert module(fine, coarse).shape == (2, 8, 16, 12)
    torch.nn.init.zeros_(module.flow_conv.weight)
    torch.nn.init.zeros_(module.gate_conv.weight)
    # No flow: the coarse map is plainly upsampled, the fine one kept; a
    # zero gate convolution gives sigmoid(0) = 1/2 of each.
    upsampled = F.interpolate(
        coarse, size=(16, 12), mode='bilinear', align_corners=True)
    assert torch.allclose(
        module(fine, coarse), (upsampled + fine) / 2, atol=1e-5)


def test_gate_reads_pooled_coarse_and_fine_maps():
    module = GatedDualFlowAlignment(channels=8, flow_channels=4)
    torch.nn.init.zeros_(module.flow_conv.weight)
    # Only the centre tap of the second input (channel mean of the fine
    # map): a large weight opens the gate fully towards the coarse map
    # where that mean is positive, towards the fine map where negative.
    with torch.no_grad():
        module.gate_conv.weight.zero_()
        module.gate_conv.weight[0, 1, 1, 1] = 1e4
    fine = torch.ones(1, 8, 4, 4)
    fine[..., :2] = -1
    coarse = torch.randn(1, 8, 4, 4)
    out = module(fine, coarse)
    assert torch.allclose(out[..., 2:], coarse[..., 2:], atol=1e-5)
    assert torch.allclose(out[..., :2], fine[..., :2], atol=1e-5)


@pytest.mark.parametrize('in_channels, expected', [([64, 256, 512], 754_871),
                                                   ([64, 512, 1024],
                                                    1_115_319)])
def test_lite_head_parameters_match_hand_count(in_channels, expected):
    c, flow_c, classes = 128, 64, 19
    fine, middle, coarse = in_channels
    hand = (
        4 * conv_bn(coarse, c, 1)  # PPM stages (1, 2, 3, 6)
        + conv_bn(coarse + 4 * c, c, 1)  # PPM bottleneck
        + conv_bn(fine, c, 1) + c + conv_bn(middle, c, 1) + c  # laterals,
        # with bias
        + 2 * c * flow_c + 9 * 2 * flow_c * 4 + 9 * 4  # squeeze, flows, gate
        + conv_bn(2 * c, c, 3)  # fusion
        + c * classes + classes)  # classifier
    assert count_parameters(lite_head(in_channels)) == hand == expected


def stdc_module(cin, cout, stride):
    """Parameters of one 4-convolution 'cat' STDC module."""
    convs = conv_bn(cin, cout // 2, 1) + conv_bn(cout // 2, cout // 4, 3) + \
        conv_bn(cout // 4, cout // 8, 3) + conv_bn(cout // 8, cout // 8, 3)
    depthwise = 9 * (cout // 2) + 2 * (cout // 2) if stride == 2 else 0
    return convs + depthwise


@pytest.mark.parametrize('stdc_type, blocks, expected',
                         [('STDCNet1', (2, 2, 2), 5_318_304),
                          ('STDCNet2', (4, 5, 3), 9_348_768)])
def test_stdc_backbone_parameters_match_hand_count(stdc_type, blocks,
                                                   expected):
    hand = conv_bn(3, 32, 3) + conv_bn(32, 64, 3)
    for cin, cout, count in zip((64, 256, 512), (256, 512, 1024), blocks):
        hand += stdc_module(cin, cout, 2) + (count - 1) * stdc_module(
            cout, cout, 1)
    assert count_parameters(stdc_backbone(stdc_type)) == hand == expected


# The official builds parts its eval forward never uses, which ours leaves
# out: the deep-supervision branch of every Lite head (3x3 conv with bias +
# BN, 1x1 classifier with bias), Lite-R18's lateral for the 512-channel
# level, and the STDC nets' ImageNet classifier (ConvX 1024 -> 1024, fc
# 1024 -> 1024 without bias, BatchNorm1d, linear 1024 -> 1000 without bias).
DSN = 9 * 128 * 128 + 128 + 2 * 128 + 128 * 19 + 19
UNUSED_LATERAL = conv_bn(512, 128, 1) + 128
STDC_CLASSIFIER = conv_bn(1024, 1024, 1) + 1024 * 1024 + 2 * 1024 + \
    1024 * 1000


@pytest.mark.parametrize('variant, ours, official_unused, official', [
    ('r18', 12_079_863, DSN + UNUSED_LATERAL, 12_296_074),
    ('stdc1', 6_433_623, DSN + STDC_CLASSIFIER, 9_709_162),
    ('stdc2', 10_464_087, DSN + STDC_CLASSIFIER, 13_739_626),
])
def test_config_counts_against_the_official(variant, ours, official_unused,
                                            official):
    model, _ = build_segmentor_from_config(CONFIGS[variant])
    assert not model.with_auxiliary_head
    assert count_parameters(model) == ours
    assert ours + official_unused == official


def test_stdc_keeps_every_level():
    backbone = stdc_backbone('STDCNet1').eval()
    with torch.no_grad():
        outs = backbone(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape[1:]) for o in outs] == [(32, 32, 32), (64, 16, 16),
                                                  (256, 8, 8), (512, 4, 4),
                                                  (1024, 2, 2)]


def test_lite_stdc1_at_512_predicts_full_size():
    model, _ = build_segmentor_from_config(CONFIGS['stdc1'])
    img = torch.randn(1, 3, 512, 512)
    shape = (512, 512, 3)
    meta = dict(ori_shape=shape, img_shape=shape, pad_shape=shape, flip=False)
    with torch.no_grad():
        feats = model.extract_feat(img)
        logits = model.decode_head(feats)
        pred = model.simple_test(img, [meta], rescale=True)
    assert logits.shape == (1, 19, 128, 128)  # stride 4
    assert len(pred) == 1 and pred[0].shape == (512, 512)
    assert 0 <= np.min(pred[0]) and np.max(pred[0]) < 19


@pytest.mark.parametrize('variant', ['r18', 'stdc2'])
def test_lite_logits_at_stride_4(variant):
    model, _ = build_segmentor_from_config(CONFIGS[variant])
    with torch.no_grad():
        logits = model.decode_head(model.extract_feat(torch.randn(1, 3, 64,
                                                                  96)))
    assert logits.shape == (1, 19, 16, 24)


def test_lite_head_needs_three_levels():
    with pytest.raises(ValueError, match='three input levels'):
        lite_head([64, 512])
