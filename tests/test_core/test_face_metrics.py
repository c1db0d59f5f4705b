import numpy as np
import pytest
import torch
from mmseg.core.evaluation import intersect_and_union

from mmseg_face.core.evaluation import (areas_from_confusion,
                                        confusion_matrix, f1_per_class,
                                        face_f1_metrics, merged_f1)
from mmseg_face.core.flip_pairs import swap_permutation
from mmseg_face.datasets.lapa import ELEVEN_CLASSES, ELEVEN_F1_GROUPS


def test_confusion_matrix_counts_and_skips_ignore():
    label = np.array([[0, 1, 1], [2, 255, 2]])
    pred = np.array([[0, 1, 2], [2, 0, 1]])
    conf = confusion_matrix(pred, label, num_classes=3)
    expected = np.array([[1, 0, 0],
                         [0, 1, 1],
                         [0, 1, 1]])
    np.testing.assert_array_equal(conf, expected)


def test_confusion_matrix_rejects_out_of_range_values():
    with pytest.raises(ValueError, match=r'label holds values \[7\]'):
        confusion_matrix(np.zeros((1, 2)), np.array([[0, 7]]), 3)
    with pytest.raises(ValueError, match=r'prediction holds values \[3\]'):
        confusion_matrix(np.array([[3, 0]]), np.zeros((1, 2)), 3)


def test_f1_per_class_hand_computed():
    # class 1: 2 px overlap, 3 predicted, 2 labelled -> 2*2/(3+2) = 0.8
    # class 0: 1 px overlap, 1 predicted, 2 labelled -> 2/3
    # class 2: never labelled nor predicted -> NaN
    label = np.array([[1, 1, 0, 0]])
    pred = np.array([[1, 1, 1, 0]])
    f1 = f1_per_class(confusion_matrix(pred, label, 3))
    assert f1[1] == pytest.approx(0.8)
    assert f1[0] == pytest.approx(2 / 3)
    assert np.isnan(f1[2])


def _helen_like_confusion():
    conf = np.zeros((11, 11), np.int64)
    conf[4, 5] = 3  # left eye predicted as right eye
    conf[4, 4] = 2
    conf[6, 1] = 1  # nose predicted as skin
    conf[1, 7] = 2  # skin predicted as upper lip
    conf[7, 8] = 4  # upper lip predicted as inner mouth
    conf[0, 0] = 10
    conf[10, 10] = 5
    return conf


def test_merged_f1_ignores_confusions_inside_the_group():
    conf = _helen_like_confusion()
    assert merged_f1(conf, (4, 5)) == pytest.approx(1.0)
    # mouth: TP 4 (7->8); labelled 4; predicted 4 + 2 (skin->7) = 6
    assert merged_f1(conf, (7, 8, 9)) == pytest.approx(8 / 10)
    assert np.isnan(merged_f1(conf, (2, 3)))


def test_face_f1_metrics_helen_protocol_hand_computed():
    results = face_f1_metrics(
        _helen_like_confusion(), ELEVEN_CLASSES, f1_groups=ELEVEN_F1_GROUPS)
    # overall over ids 2..9: TP 3+2+4 = 9, labelled 3+2+1+4 = 10,
    # predicted 3+2+2+4 = 11 -> 18/21
    assert results['F1.overall'] == pytest.approx(18 / 21)
    assert results['F1.eyes'] == pytest.approx(1.0)
    assert results['F1.left_eye'] == pytest.approx(4 / 7)
    assert results['F1.right_eye'] == 0
    assert results['F1.background'] == 1
    # mF1 skips background and the absent brows/lower lip:
    # (skin 0, left eye 4/7, right eye 0, nose 0, u lip 0, i mouth 0,
    #  hair 1) / 7
    assert results['mF1'] == pytest.approx((4 / 7 + 1) / 7)
    assert list(results)[:11] == [f'F1.{c}' for c in ELEVEN_CLASSES]


def test_face_f1_metrics_checks_shape():
    with pytest.raises(ValueError, match='does not match 11 class names'):
        face_f1_metrics(np.zeros((3, 3)), ELEVEN_CLASSES)


def test_areas_from_confusion_equal_mmseg_intersect_and_union():
    rng = np.random.default_rng(0)
    label = rng.integers(0, 5, (17, 13))
    label[:2] = 255
    pred = rng.integers(0, 5, (17, 13))
    stock = intersect_and_union(pred, label.copy(), 5, 255)
    ours = areas_from_confusion(confusion_matrix(pred, label, 5))
    for stock_area, our_area in zip(stock, ours):
        assert torch.equal(stock_area, our_area)


def test_swap_permutation():
    perm = swap_permutation(6, [(4, 5), (1, 2)])
    np.testing.assert_array_equal(perm, [0, 2, 1, 3, 5, 4])
    with pytest.raises(ValueError, match='more than one flip pair'):
        swap_permutation(6, [(1, 2), (2, 3)])
    with pytest.raises(ValueError, match='outside'):
        swap_permutation(4, [(3, 4)])
