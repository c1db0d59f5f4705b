"""GPEN ParseNet: ParseNet backbone + ParseNetHead."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.models import build_backbone, build_head

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.models.backbones.parsenet import ParseNetResBlock


def count_params(module):
    return sum(p.numel() for p in module.parameters())


def gpen_backbone(**kwargs):
    return build_backbone(dict(type='ParseNet', **kwargs))


def gpen_head(**kwargs):
    cfg = dict(
        type='ParseNetHead',
        in_channels=64,
        channels=64,
        dropout_ratio=0,
        num_classes=19)
    cfg.update(kwargs)
    return build_head(cfg)


def conv3x3(cin, cout):
    return 9 * cin * cout


def res_block(cin, cout, shortcut):
    """Hand count: two conv+BN (no bias) and an optional biased shortcut."""
    main = conv3x3(cin, cout) + 2 * cout + conv3x3(cout, cout) + 2 * cout
    return main + (conv3x3(cin, cout) + cout if shortcut else 0)


def test_parsenet_matches_gpen_parameter_counts():
    backbone = gpen_backbone()
    head = gpen_head()
    # Per-part counts from models.md 4.1 (measured on GPEN's original code).
    assert count_params(backbone.encoder) == 5_019_776
    assert count_params(backbone.body) == 10 * 1_180_672
    assert [count_params(m) for m in backbone.decoder
            ] == [1_770_752, 1_770_752, 737_920, 184_640]
    assert count_params(head.conv_seg) == 10_963
    assert count_params(head.conv_img) == 1_731
    assert count_params(backbone) + count_params(head) == 21_303_254
    # The same numbers from the layer shapes alone.
    assert count_params(backbone.encoder[1]) == res_block(64, 128, True)
    assert count_params(backbone.body[0]) == res_block(256, 256, False)


def test_parsenet_logits_have_full_resolution():
    backbone = gpen_backbone().eval()
    head = gpen_head().eval()
    img = torch.randn(1, 3, 64, 48)
    with torch.no_grad():
        feats = backbone(img)
        logits = head(feats)
        restored = head.forward_restore(feats)
    assert len(feats) == 1 and feats[0].shape == (1, 64, 64, 48)
    assert logits.shape == (1, 19, 64, 48)
    assert restored.shape == (1, 3, 64, 48)


def test_parsenet_rejects_sizes_not_divisible_by_16():
    with pytest.raises(ValueError, match='divisible by 16'):
        gpen_backbone()(torch.randn(1, 3, 40, 48))


def test_parsenet_stem_pads_by_reflection():
    backbone = gpen_backbone()
    stem = backbone.encoder[0]
    img = torch.randn(1, 3, 16, 16)
    expected = F.conv2d(
        F.pad(img, (1, 1, 1, 1), mode='reflect'), stem.conv.weight,
        stem.conv.bias)
    assert torch.allclose(stem(img), expected, atol=1e-5)


def test_res_block_scales_and_shortcuts():
    down = ParseNetResBlock(8, 16, 'down')
    up = ParseNetResBlock(16, 8, 'up')
    same = ParseNetResBlock(8, 8)
    x = torch.randn(2, 8, 8, 8)
    assert down(x).shape == (2, 16, 4, 4)
    assert up(torch.randn(2, 16, 4, 4)).shape == (2, 8, 8, 8)
    assert isinstance(same.shortcut, torch.nn.Identity)
    # No activation after the addition: negative outputs survive.
    assert (same(x) < 0).any()
    with pytest.raises(ValueError, match='scale'):
        ParseNetResBlock(8, 8, 'sideways')


def test_parsenet_training_lowers_loss():
    torch.manual_seed(0)
    backbone = gpen_backbone(
        base_channels=8, channel_range=(8, 16), num_stages=2,
        num_res_blocks=2)
    head = gpen_head(in_channels=8, channels=8, num_classes=3)
    img = torch.randn(2, 3, 16, 16)
    label = torch.zeros(2, 1, 16, 16, dtype=torch.long)
    label[:, :, :, 8:] = 1
    label[:, :, 8:, :] = 2
    params = list(backbone.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=2e-3)
    losses = []
    for _ in range(8):
        loss = head.losses(head(backbone(img)), label)['loss_ce']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
