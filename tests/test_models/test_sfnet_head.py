"""SFNet decoder (SFNetHead) and its flow alignment."""
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
        norm_cfg=dict(type='BN'))
    cfg.update(kwargs)
    return build_head(cfg)


def resnet18_v1c():
    return build_backbone(
        dict(
            type='ResNetV1c',
            depth=18,
            out_indices=(0, 1, 2, 3),
            strides=(1, 2, 2, 2),
            dilations=(1, 1, 1, 1),
            norm_cfg=dict(type='BN')))


def test_flow_warp_zero_flow_is_bilinear_upsampling():
    feat = torch.randn(2, 3, 4, 5)
    out = flow_warp(feat, torch.zeros(2, 2, 8, 10))
    expected = F.interpolate(
        feat, size=(8, 10), mode='bilinear', align_corners=True)
    assert torch.allclose(out, expected, atol=1e-5)


def test_flow_warp_moves_by_whole_pixels():
    feat = torch.tensor([[[[0., 1., 2., 3.], [4., 5., 6., 7.]]]])
    flow = torch.zeros(1, 2, 2, 4)
    flow[:, 0] = 1  # every output pixel reads its right neighbour
    out = flow_warp(feat, flow)
    # The last column samples outside the map: zero padding.
    assert torch.allclose(out, torch.tensor([[[[1., 2., 3., 0.],
                                               [5., 6., 7., 0.]]]]))
    flow = torch.zeros(1, 2, 2, 4)
    flow[:, 1] = -1  # read the row above
    out = flow_warp(feat, flow)
    assert torch.allclose(out[0, 0, 1], feat[0, 0, 0])
    assert torch.allclose(out[0, 0, 0], torch.zeros(4))


def test_alignment_module_warps_coarse_onto_fine_grid():
    module = FlowAlignmentModule(channels=8, flow_channels=4)
    fine, coarse = torch.randn(2, 8, 16, 12), torch.randn(2, 8, 8, 6)
    assert module(fine, coarse).shape == (2, 8, 16, 12)
    # A zero flow convolution leaves plain bilinear upsampling.
    torch.nn.init.zeros_(module.flow_conv.weight)
    expected = F.interpolate(
        coarse, size=(16, 12), mode='bilinear', align_corners=True)
    assert torch.allclose(module(fine, coarse), expected, atol=1e-5)


def test_sfnet_head_parameters_match_hand_count():
    head = sfnet_head()
    c, flow_c, classes = 128, 64, 19
    conv_bn = lambda cin, cout, k: k * k * cin * cout + 2 * cout  # noqa
    expected = (
        4 * conv_bn(512, c, 1)  # PPM stages (1, 2, 3, 6)
        + conv_bn(512 + 4 * c, c, 1)  # PPM bottleneck
        + sum(conv_bn(cin, c, 1) for cin in (64, 128, 256))  # laterals
        + 3 * (2 * c * flow_c + 9 * 2 * flow_c * 2)  # alignment modules
        + 3 * conv_bn(c, c, 3)  # FPN output convolutions
        + conv_bn(4 * c, c, 3)  # fusion
        + c * classes + classes)  # classifier
    assert count_params(head) == expected == 1_544_339


def test_sfnet_r18_backbone_and_total_parameters():
    backbone = resnet18_v1c()
    # torchvision's ResNet-18 has 11,689,512 parameters; drop its 1000-way
    # fc and swap the 7x7 stem (conv + BN) for the V1c 3-conv deep stem.
    plain_stem = 7 * 7 * 3 * 64 + 2 * 64
    deep_stem = (9 * 3 * 32 + 2 * 32) + (9 * 32 * 32 + 2 * 32) + (
        9 * 32 * 64 + 2 * 64)
    expected_backbone = 11_689_512 - (512 * 1000 + 1000) - plain_stem \
        + deep_stem
    assert count_params(backbone) == expected_backbone == 11_195_744
    total = count_params(backbone) + count_params(sfnet_head())
    assert total == 12_740_083  # SFNet-R18, 19 classes


def test_sfnet_head_output_shape_and_checks():
    backbone, head = resnet18_v1c(), sfnet_head()
    backbone.eval()  # mmseg's ResNet.train() returns None: no chaining
    head.eval()
    with torch.no_grad():
        feats = backbone(torch.randn(1, 3, 64, 96))
        logits = head(feats)
    assert [f.shape[1] for f in feats] == RESNET18_LEVELS
    assert logits.shape == (1, 19, 16, 24)  # stride 4
    with pytest.raises(ValueError, match='two input levels'):
        sfnet_head(in_channels=[512], in_index=[0])


def test_sfnet_training_lowers_loss():
    torch.manual_seed(0)
    backbone = resnet18_v1c()
    head = sfnet_head(channels=32, num_classes=3, dropout_ratio=0)
    img = torch.randn(2, 3, 32, 32)
    label = torch.zeros(2, 1, 32, 32, dtype=torch.long)
    label[:, :, :, 16:] = 1
    label[:, :, 16:, :] = 2
    params = list(backbone.parameters()) + list(head.parameters())
    optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    losses = []
    for _ in range(6):
        loss = head.losses(head(backbone(img)), label)['loss_ce']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
