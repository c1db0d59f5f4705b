"""Edge losses of EHANet and EAGRNet against hand-computed values.

Logits are chosen so each pixel's cross-entropy has a closed form:
logits (0, 0) give ln 2 for either class; (ln 3, 0) give ln(4/3) for
class 0 and ln 4 for class 1.
"""
import math

import pytest
import torch
from mmseg.models.builder import build_loss

import mmseg_face  # noqa: F401  (registration)

LN2, LN4, LN4_3 = math.log(2), math.log(4), math.log(4 / 3)
EVEN = (0.0, 0.0)
FAVOURS_0 = (math.log(3), 0.0)
FAVOURS_1 = (0.0, math.log(3))


def logits(*pixels):
    """(1, 2, 1, W) logits from per-pixel (class 0, class 1) pairs."""
    return torch.tensor(pixels).t().reshape(1, 2, 1, len(pixels))


def labels(*values):
    return torch.tensor([[values]])


def test_boundary_weighted_ce_weights_edges_and_counts_ignored_pixels():
    loss = build_loss(
        dict(type='BoundaryWeightedCrossEntropyLoss', alpha=50,
             loss_name='loss_seg'))
    score = logits(EVEN, FAVOURS_0, EVEN)
    label = labels(0, 0, 255)
    edge = labels(1, 0, 255)
    value = loss(score, label, edge, ignore_index=255)
    # Edge pixel x51, non-edge x1, ignored pixel 0 but still in the mean.
    assert value.item() == pytest.approx((51 * LN2 + LN4_3) / 3)
    assert loss.loss_name == 'loss_seg'


def test_boundary_weighted_ce_alpha_and_loss_weight():
    loss = build_loss(
        dict(type='BoundaryWeightedCrossEntropyLoss', alpha=0,
             loss_weight=2.0))
    score = logits(EVEN, FAVOURS_0, FAVOURS_0)
    value = loss(score, labels(1, 0, 1), labels(1, 0, 1))
    assert value.item() == pytest.approx(2.0 * (LN2 + LN4_3 + LN4) / 3)


def test_boundary_weighted_ce_rejects_negative_alpha():
    with pytest.raises(ValueError, match='alpha'):
        build_loss(dict(type='BoundaryWeightedCrossEntropyLoss', alpha=-1))


def test_balanced_edge_loss_is_pytorch_weighted_mean():
    loss = build_loss(dict(type='BalancedEdgeLoss'))
    score = logits(EVEN, FAVOURS_0, FAVOURS_1, EVEN)
    edge = labels(1, 0, 0, 255)
    # 1 edge, 2 non-edge pixels: edge weight 2/3, non-edge weight 1/3; the
    # weighted sum is divided by the summed weights (2/3 + 1/3 + 1/3).
    expected = (2 / 3 * LN2 + 1 / 3 * LN4_3 + 1 / 3 * LN4) / (4 / 3)
    assert loss(score, edge, ignore_index=255).item() == pytest.approx(
        expected)
    assert loss.loss_name == 'loss_edge'
    # mmseg's class-weighted CE divides by the pixel count instead.
    assert expected != pytest.approx((2 / 3 * LN2 + LN4_3 / 3 + LN4 / 3) / 3)


def test_balanced_edge_loss_batch_wide_weights_and_loss_weight():
    loss = build_loss(dict(type='BalancedEdgeLoss', loss_weight=0.5))
    score = torch.cat([logits(EVEN, FAVOURS_0), logits(FAVOURS_0, EVEN)])
    edge = torch.cat([labels(1, 0), labels(0, 0)])
    # Counted over the batch: 1 edge (weight 3/4), 3 non-edge (1/4 each).
    expected = (3 / 4 * LN2 + 1 / 4 * (LN4_3 + LN4_3 + LN2)) / (3 / 4 + 3 / 4)
    assert loss(score, edge).item() == pytest.approx(0.5 * expected)


def test_balanced_edge_loss_without_edges_is_zero_with_gradient():
    score = logits(EVEN, FAVOURS_0).requires_grad_()
    value = build_loss(dict(type='BalancedEdgeLoss'))(score, labels(0, 0))
    assert value.item() == 0
    value.backward()
    assert torch.equal(score.grad, torch.zeros_like(score))


def test_balanced_edge_loss_rejects_non_binary_logits():
    with pytest.raises(ValueError, match='2-channel'):
        build_loss(dict(type='BalancedEdgeLoss'))(
            torch.zeros(1, 3, 1, 2), labels(0, 1))


def test_edge_attention_ce_averages_over_each_images_edge_pixels():
    loss = build_loss(
        dict(type='EdgeAttentionCrossEntropyLoss', loss_weight=4.0))
    score = torch.cat(
        [logits(EVEN, FAVOURS_0, EVEN),
         logits(FAVOURS_1, FAVOURS_0, EVEN)])
    label = torch.cat([labels(0, 1, 255), labels(0, 0, 0)])
    edge = torch.cat([labels(1, 1, 255), labels(0, 1, 0)])
    image0 = (LN2 + LN4) / 2
    image1 = LN4_3 / 1
    value = loss(score, label, edge, ignore_index=255)
    assert value.item() == pytest.approx(4.0 * (image0 + image1) / 2)
    assert loss.loss_name == 'loss_edge_att'


def test_edge_attention_ce_image_without_edges_adds_zero():
    loss = build_loss(dict(type='EdgeAttentionCrossEntropyLoss'))
    score = torch.cat([logits(EVEN, FAVOURS_0), logits(EVEN, FAVOURS_0)])
    label = torch.cat([labels(1, 1), labels(1, 1)])
    edge = torch.cat([labels(0, 1), labels(0, 0)])
    assert loss(score, label, edge).item() == pytest.approx(LN4 / 2)
