import numpy as np
import pytest
from mmcv.utils import build_from_cfg
from mmseg.datasets.builder import PIPELINES

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.datasets.pipelines import label_to_edge


def _flip(prob=1.0, flip_pairs=((4, 5), (6, 7), (8, 9))):
    return build_from_cfg(
        dict(type='FaceRandomFlip', prob=prob, flip_pairs=flip_pairs),
        PIPELINES)


def test_face_flip_mirrors_and_swaps_left_right():
    seg = np.zeros((4, 6), np.uint8)
    seg[:, 0] = 4  # l_eye in column 0
    seg[0, 1] = 255
    img = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    out = _flip()(
        dict(img=img.copy(), gt_semantic_seg=seg,
             seg_fields=['gt_semantic_seg']))
    assert (out['gt_semantic_seg'][:, 5] == 5).all()  # now r_eye, mirrored
    assert out['gt_semantic_seg'][0, 4] == 255  # ignore stays ignore
    assert (out['gt_semantic_seg'][:, :4] == 0).all()
    np.testing.assert_array_equal(out['img'], img[:, ::-1])
    assert out['flip'] and out['flip_direction'] == 'horizontal'


def test_face_flip_twice_is_identity_for_image_label_and_edge():
    rng = np.random.default_rng(0)
    seg = np.zeros((8, 10), np.uint8)
    seg[2:5, 1:3] = 4
    seg[5:7, 6:9] = 13
    img = rng.integers(0, 255, (8, 10, 3)).astype(np.uint8)
    results = dict(img=img.copy(), gt_semantic_seg=seg.copy(),
                   seg_fields=['gt_semantic_seg'])
    results = build_from_cfg(dict(type='GenerateFaceEdge'), PIPELINES)(
        results)
    edge = results['gt_edge'].copy()
    once = _flip()(results)
    assert not np.array_equal(once['gt_edge'], edge)
    twice = _flip()(dict(once, flip=True))
    np.testing.assert_array_equal(twice['img'], img)
    np.testing.assert_array_equal(twice['gt_semantic_seg'], seg)
    np.testing.assert_array_equal(twice['gt_edge'], edge)


def test_face_flip_obeys_preset_flag_and_direction():
    seg = np.array([[4, 0]], np.uint8)
    kept = _flip(prob=1.0)(
        dict(img=np.zeros((1, 2, 3)), gt_semantic_seg=seg.copy(), flip=False,
             seg_fields=['gt_semantic_seg']))
    np.testing.assert_array_equal(kept['gt_semantic_seg'], seg)
    vertical = _flip(prob=1.0)(
        dict(img=np.zeros((1, 2, 3)), gt_semantic_seg=seg.copy(), flip=True,
             flip_direction='vertical', seg_fields=['gt_semantic_seg']))
    np.testing.assert_array_equal(vertical['gt_semantic_seg'], seg)


def test_ehanet_edge_hand_computed():
    label = np.array([[0, 0, 1],
                      [0, 0, 1],
                      [2, 2, 1]], np.uint8)
    # Marked when the pixel above, to the right, lower-right or lower-left
    # differs, e.g. (0, 2) through its lower-left 0, while (2, 2) is
    # unmarked (its above is 1, it has no right/lower neighbours).
    expected = np.array([[0, 1, 1],
                         [1, 1, 1],
                         [1, 1, 0]], np.uint8)
    np.testing.assert_array_equal(label_to_edge(label, 'ehanet', width=1),
                                  expected)
    np.testing.assert_array_equal(
        label_to_edge(label, 'ehanet', width=3), np.ones((3, 3), np.uint8))


def test_eagr_edge_marks_both_sides_and_skips_ignore():
    label = np.array([[3, 3, 5, 5],
                      [3, 3, 5, 5],
                      [255, 255, 255, 255]], np.uint8)
    expected = np.array([[0, 1, 1, 0],
                         [0, 1, 1, 0],
                         [255, 255, 255, 255]], np.uint8)
    np.testing.assert_array_equal(label_to_edge(label, 'eagr'), expected)


def test_generate_face_edge_contract_and_bad_args():
    results = dict(gt_semantic_seg=np.array([[1, 2], [255, 2]], np.uint8),
                   seg_fields=['gt_semantic_seg'])
    out = build_from_cfg(dict(type='GenerateFaceEdge', mode='eagr'),
                         PIPELINES)(results)
    assert out['seg_fields'] == ['gt_semantic_seg', 'gt_edge']
    assert out['gt_edge'].dtype == np.uint8
    np.testing.assert_array_equal(out['gt_edge'], [[1, 1], [255, 0]])
    with pytest.raises(ValueError, match="'sobel' is not one of"):
        build_from_cfg(dict(type='GenerateFaceEdge', mode='sobel'), PIPELINES)
    with pytest.raises(ValueError, match='positive int'):
        build_from_cfg(dict(type='GenerateFaceEdge', width=0), PIPELINES)


def test_pad_and_format_bundle_carry_the_edge():
    seg = np.zeros((3, 4), np.uint8)
    seg[:, 2:] = 1
    results = dict(img=np.zeros((3, 4, 3), np.float32), gt_semantic_seg=seg,
                   seg_fields=['gt_semantic_seg'])
    for cfg in (dict(type='GenerateFaceEdge', mode='eagr'),
                dict(type='Pad', size=(5, 5), seg_pad_val=255),
                dict(type='FaceFormatBundle')):
        results = build_from_cfg(cfg, PIPELINES)(results)
    edge = results['gt_edge'].data
    assert edge.shape == (1, 5, 5) and str(edge.dtype) == 'torch.int64'
    assert results['gt_edge'].stack
    assert (edge[0, 3:] == 255).all() and (edge[0, :, 4] == 255).all()
    assert edge[0, :3, 1:3].eq(1).all() and edge[0, :3, 0].eq(0).all()
    assert tuple(results['gt_semantic_seg'].data.shape) == (1, 5, 5)
