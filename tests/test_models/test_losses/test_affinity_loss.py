"""CPNet's ideal affinity map and affinity loss against hand-computed
values, ignored pixels (255) included."""
import math

import pytest
import torch
from mmseg.models import build_loss

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.models.losses.affinity_loss import ideal_affinity

# Labels at the prior's 2x2 size: classes 0, 1, 1 and one ignored pixel,
# which becomes an extra class (2) of its own.
LABEL_2X2 = [[0, 1], [1, 255]]
AFFINITY = [[1., 0., 0., 0.],
            [0., 1., 1., 0.],
            [0., 1., 1., 0.],
            [0., 0., 0., 1.]]
PRIOR = [[0.9, 0.2, 0.1, 0.3],
         [0.2, 0.8, 0.6, 0.1],
         [0.1, 0.7, 0.9, 0.2],
         [0.4, 0.1, 0.2, 0.5]]


def bce_one(p):
    """BCE against target 1, log clamped at -100 as torch does."""
    return 100.0 if p == 0 else -math.log(p)


def test_ideal_affinity_downsamples_nearest_and_keeps_batch_of_one():
    # 4x4 -> 2x2 nearest keeps rows/columns 0 and 2; the odd ones differ
    # so that any other sampling would be seen.
    label = torch.tensor([[0, 3, 1, 3],
                          [3, 3, 3, 3],
                          [1, 3, 255, 3],
                          [3, 3, 3, 3]]).view(1, 1, 4, 4)
    affinity = ideal_affinity(label, (2, 2), num_classes=4)
    assert affinity.shape == (1, 4, 4)  # the official squeeze_() gave (4, 4)
    assert affinity[0].tolist() == AFFINITY


def test_ideal_affinity_of_a_batch():
    label = torch.tensor([LABEL_2X2, [[2, 2], [2, 2]]]).view(2, 1, 2, 2)
    affinity = ideal_affinity(label, (2, 2), num_classes=3)
    assert affinity[0].tolist() == AFFINITY
    assert affinity[1].tolist() == [[1.] * 4] * 4
    # ignore_index is the head's, not a fixed 255.
    label = torch.tensor([[0, 7], [7, 0]]).view(1, 1, 2, 2)
    affinity = ideal_affinity(label, (2, 2), num_classes=1, ignore_index=7)
    assert affinity[0].tolist() == [[1., 0., 0., 1.], [0., 1., 1., 0.],
                                    [0., 1., 1., 0.], [1., 0., 0., 1.]]


def test_affinity_loss_hand_computed():
    affinity = torch.tensor([AFFINITY])
    prior = torch.tensor([PRIOR])
    # Unary: mean BCE over the 16 entries.
    unary = sum(-math.log(p) if a else -math.log(1 - p)
                for p_row, a_row in zip(PRIOR, AFFINITY)
                for p, a in zip(p_row, a_row)) / 16
    # Recall: prior on the other same-class positions / their number. Rows
    # 0 (class 0) and 3 (the ignored pixel) have none: part 0 -> 100.
    recall = [0.0, 0.6 / 1, 0.7 / 1, 0.0]
    # Specificity: (1 - prior) on other-class positions / their number.
    specificity = [(0.8 + 0.9 + 0.7) / 3, (0.8 + 0.9) / 2,
                   (0.9 + 0.8) / 2, (0.6 + 0.9 + 0.8) / 3]
    # Precision: prior on the other same-class positions / the row's sum.
    precision = [0.0, 0.6 / 1.7, 0.7 / 1.9, 0.0]
    expected = unary + sum(
        sum(bce_one(p) for p in part) / 4
        for part in (recall, specificity, precision))
    loss = build_loss(dict(type='AffinityLoss', loss_weight=0.5))
    assert loss.loss_name == 'loss_prior'
    assert float(loss(prior, affinity)) == pytest.approx(0.5 * expected,
                                                         rel=1e-6)


def test_affinity_loss_perfect_prior_costs_only_singletons():
    # A prior equal to the ideal affinity (clamped into (0, 1)) costs
    # nothing but the recall and precision of the two singleton rows, and
    # the precision of rows 1 and 2: its denominator counts the diagonal,
    # so the part is 1 / 2 there, as in the official code.
    affinity = torch.tensor([AFFINITY])
    prior = affinity.clamp(1e-6, 1 - 1e-6)
    loss = build_loss(dict(type='AffinityLoss'))(prior, affinity)
    expected = 2 * 100 / 4 + (2 * 100 + 2 * math.log(2)) / 4
    assert float(loss) == pytest.approx(expected, rel=1e-4)


def test_affinity_loss_shape_mismatch_is_named():
    loss = build_loss(dict(type='AffinityLoss'))
    with pytest.raises(ValueError, match=r'prior map \(1, 4, 4\).*'
                       r'\(1, 9, 9\)'):
        loss(torch.rand(1, 4, 4), torch.ones(1, 9, 9))
