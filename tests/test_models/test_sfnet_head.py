"""SFNet-R18: the conv2-dilated deep-stem ResNet-18, SFNetHead and its flow
alignment, against the official DeepR18_SF_deeply (lxtGH/SFSegNets)."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmseg.models import build_backbone, build_head

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.models.decode_heads.sfnet_head import (FlowAlignmentModule,
                                                       flow_warp)

RESNET18_LEVELS = [64, 128, 256, 512]


def count_params(module):
    return sum(p.numel() for p in module.parameters())


def sfnet_head(**kwargs):
    cfg = dict(
        type='SFNetHead',
        in_channels=RESNET18_LEVELS,
        in_index=[0, 1, 2, 3],
        channels=128,
        num_classes=19,
        dropout_ratio=0.1,
        align_corners=True,
        norm_cfg=dict(type='BN'))
    cfg.update(kwargs)
    return build_head(cfg)


def sfnet_resnet18():
    return build_backbone(
        dict(
            type='Conv2DilatedResNetV1c',
            depth=18,
            stem_channels=128,
            out_indices=(0, 1, 2, 3),
            strides=(1, 2, 2, 2),
            dilations=(1, 1, 2, 4),
            norm_cfg=dict(type='BN')))


def test_flow_warp_zero_flow_is_bilinear_upsampling():
    feat = torch.randn(2, 3, 4, 5)
    out = flow_warp(feat, torch.zeros(2, 2, 8, 10))
    expected = F.interpolate(
        feat, size=(8, 10), mode='bilinear', align_corners=True)
    assert torch.allclose(out, expected, atol=1e-5)


def test_flow_warp_uses_the_official_scale():
    # A flow unit shifts the [-1, 1] grid by 1 / W, i.e. (W - 1) / (2 W)
    # pixels: 2 W / (W - 1) units move by one whole pixel.
    feat = torch.tensor([[[[0., 1., 2., 3.], [4., 5., 6., 7.]]]])
    flow = torch.zeros(1, 2, 2, 4)
    flow[:, 0] = 2 * 4 / 3  # every output pixel reads its right neighbour
    out = flow_warp(feat, flow)
    # The last column samples outside the map: zero padding.
    assert torch.allclose(out, torch.tensor([[[[1., 2., 3., 0.],
                                               [5., 6., 7., 0.]]]]),
                          atol=1e-5)
    flow = torch.zeros(1, 2, 2, 4)
    flow[:, 1] = -2 * 2 / 1  # read the row above (H = 2)
    out = flow_warp(feat, flow)
    assert torch.allclose(out[0, 0, 1], feat[0, 0, 0], atol=1e-5)
    assert torch.allclose(out[0, 0, 0], torch.zeros(4))
    # One flow unit is half a pixel here, not the whole pixel of 2 / (W - 1).
    flow = torch.ones(1, 2, 2, 4)
    flow[:, 1] = 0
    out = flow_warp(feat, flow)
    assert torch.allclose(out[0, 0, 0, :3], torch.tensor([0.375, 1.375,
                                                          2.375]))


def test_alignment_module_warps_coarse_onto_fine_grid():
    module = FlowAlignmentModule(channels=8, flow_channels=4)
    fine, coarse = torch.randn(2, 8, 16, 12), torch.randn(2, 8, 8, 6)
    assert module(fine, coarse).shape == (2, 8, 16, 12)
    # A zero flow convolution leaves plain bilinear upsampling.
    torch.nn.init.zeros_(module.flow_conv.weight)
    expected = F.interpolate(
        coarse, size=(16, 12), mode='bilinear', align_corners=True)
    assert torch.allclose(module(fine, coarse), expected, atol=1e-5)


def test_basic_blocks_dilate_conv2_and_stride_conv1():
    backbone = sfnet_resnet18()
    for layer, dilation in (('layer3', 2), ('layer4', 4)):
        for block in getattr(backbone, layer):
            assert block.conv1.dilation == (1, 1)
            assert block.conv2.dilation == (dilation, dilation)
            assert block.conv2.padding == (dilation, dilation)
        assert getattr(backbone, layer)[0].conv1.stride == (2, 2)
    # 128-channel stem: layer1 opens with a 1x1 projection 128 -> 64.
    assert backbone.layer1[0].downsample[0].weight.shape == (64, 128, 1, 1)


def test_sfnet_resnet18_parameters_match_hand_count():
    conv_bn = lambda cin, cout, k: k * k * cin * cout + 2 * cout  # noqa
    stem = conv_bn(3, 64, 3) + conv_bn(64, 64, 3) + conv_bn(64, 128, 3)

    def stage(cin, cout):
        first = conv_bn(cin, cout, 3) + conv_bn(cout, cout, 3) + conv_bn(
            cin, cout, 1)  # with its projection shortcut
        return first + 2 * conv_bn(cout, cout, 3)

    expected = stem + stage(128, 64) + stage(64, 128) + stage(128, 256) + \
        stage(256, 512)
    assert count_params(sfnet_resnet18()) == expected == 11_324_992


def test_sfnet_head_parameters_match_hand_count():
    head = sfnet_head()
    c, flow_c, classes = 128, 64, 19
    conv_bn = lambda cin, cout, k: k * k * cin * cout + 2 * cout  # noqa
    expected = (
        4 * conv_bn(512, c, 1)  # PPM stages (1, 2, 3, 6)
        + conv_bn(512 + 4 * c, c, 1)  # PPM bottleneck
        + sum(conv_bn(cin, c, 1) + c for cin in (64, 128, 256))  # laterals,
        # with bias
        + 3 * (2 * c * flow_c + 9 * 2 * flow_c * 2)  # alignment modules
        + 3 * conv_bn(c, c, 3)  # FPN output convolutions
        + conv_bn(4 * c, c, 3)  # fusion
        + c * classes + classes)  # classifier
    assert count_params(head) == expected == 1_544_723


def test_sfnet_r18_total_is_the_official_count():
    # The official DeepR18_SF_deeply at 19 classes has no auxiliary head and
    # drops the ImageNet fc: everything it builds is counted.
    total = count_params(sfnet_resnet18()) + count_params(sfnet_head())
    assert total == 12_869_715


def test_dropout_acts_after_the_ppm_not_before_the_classifier():
    head = sfnet_head(channels=16, num_classes=3)
    assert isinstance(head.ppm.dropout, torch.nn.Dropout2d)
    assert head.ppm.dropout.p == 0.1
    head.train()
    feat = torch.randn(1, 16, 4, 4)
    # cls_seg is deterministic in training mode.
    assert torch.equal(head.cls_seg(feat), head.cls_seg(feat))


def test_sfnet_r18_output_stride_and_checks():
    backbone, head = sfnet_resnet18(), sfnet_head()
    backbone.eval()  # mmseg's ResNet.train() returns None: no chaining
    head.eval()
    with torch.no_grad():
        feats = backbone(torch.randn(1, 3, 64, 96))
        logits = head(feats)
    assert [f.shape[1] for f in feats] == RESNET18_LEVELS
    assert [f.shape[2:] for f in feats] == [(16, 24), (8, 12), (4, 6),
                                            (2, 3)]  # strides 4 .. 32
    assert logits.shape == (1, 19, 16, 24)  # stride 4
    with pytest.raises(ValueError, match='two input levels'):
        sfnet_head(in_channels=[512], in_index=[0])


def test_ohem_loss_matches_hand_computation():
    # OHEM as the configs set it, on 6 pixels, one of them ignored (255).
    head = sfnet_head(
        channels=16,
        num_classes=2,
        sampler=dict(type='OHEMPixelSampler', thresh=0.7, min_kept=2))
    probs = torch.tensor([[0.9, 0.2, 0.3], [0.5, 0.95, 0.4]])
    label = torch.tensor([[0, 1, 0], [1, 255, 0]])
    # Probability of class 0 per pixel, chosen so that the labelled class
    # gets ``probs`` (the ignored pixel's value does not matter).
    p0 = torch.where(label == 0, probs, 1 - probs)
    logits = torch.log(torch.stack([p0, 1 - p0]))[None]
    loss = head.losses(logits, label[None, None])['loss_ce']
    # Valid probabilities sorted: 0.2 0.3 0.4 0.5 0.9; the min_kept-th (2)
    # is 0.4 < 0.7, so the threshold is 0.7: 0.2, 0.3, 0.4 and 0.5 are kept.
    # mmseg's mean runs over all 6 pixels.
    expected = -sum(math.log(p) for p in (0.2, 0.3, 0.4, 0.5)) / 6
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_sfnet_training_lowers_loss():
    torch.manual_seed(0)
    backbone = sfnet_resnet18()
    head = sfnet_head(channels=32, num_classes=3, dropout_ratio=0)
    img = torch.randn(2, 3, 32, 32)
    label = torch.zeros(2, 1, 32, 32, dtype=torch.long)
    label[:, :, :, 16:] = 1
    label[:, :, 16:, :] = 2
    params = list(backbone.parameters()) + list(head.parameters())
    optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    losses = []
    for _ in range(10):
        loss = head.losses(head(backbone(img)), label)['loss_ce']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
