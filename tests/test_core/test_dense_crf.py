"""Dense CRF post-processing: mmseg_face.core.dense_crf and test_cfg.crf."""
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmcv import Config

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.core.dense_crf import DEEPLAB_V1_CRF, dense_crf
from mmseg_face.utils.complexity import build_segmentor_from_config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CRF_CONFIG = osp.join(
    REPO_ROOT, 'local_configs', 'deeplabv1',
    'deeplabv1_vgg16-largefov-crf_8x2_512x512_80k_celebamask-hq.py')
HEIGHT, WIDTH, EDGE, BLURRED_EDGE = 24, 48, 20, 27


def edge_picture():
    """Dark left of column EDGE, bright from it on."""
    picture = np.full((HEIGHT, WIDTH, 3), 30, np.uint8)
    picture[:, EDGE:] = 200
    return picture


def blurred_probs(num_classes=2):
    """Class 1's probability rises smoothly across the picture, passing 0.5
    between columns 26 and 27: its boundary is 7 px right of the edge."""
    columns = np.arange(WIDTH)
    p1 = 1 / (1 + np.exp(-(columns - (BLURRED_EDGE - 0.5)) / 4.0))
    probs = np.full((num_classes, HEIGHT, WIDTH), 1e-6, np.float32)
    probs[0] = 1 - p1 - 1e-6 * (num_classes - 2)
    probs[1] = p1
    return probs


def boundary_columns(labels):
    """First class-1 column of every row (labels must be 0 then 1)."""
    firsts = labels.argmax(axis=1)
    assert (labels == (np.arange(labels.shape[1]) >= firsts[:, None])).all()
    return set(firsts.tolist())


def test_the_blurred_boundary_snaps_to_the_image_edge():
    probs = blurred_probs()
    assert boundary_columns(probs.argmax(0)) == {BLURRED_EDGE}
    marginals = dense_crf(edge_picture(), probs, **DEEPLAB_V1_CRF)
    assert marginals.shape == probs.shape and marginals.dtype == np.float32
    np.testing.assert_allclose(marginals.sum(0), 1, rtol=1e-4)
    assert boundary_columns(marginals.argmax(0)) == {EDGE}


def test_without_an_edge_the_boundary_does_not_go_there():
    flat = np.full((HEIGHT, WIDTH, 3), 100, np.uint8)
    marginals = dense_crf(flat, blurred_probs(), **DEEPLAB_V1_CRF)
    assert EDGE not in boundary_columns(marginals.argmax(0))


def test_zero_probabilities_give_finite_marginals():
    probs = np.zeros((2, HEIGHT, WIDTH), np.float32)
    probs[0, :, :EDGE] = 1
    probs[1, :, EDGE:] = 1
    marginals = dense_crf(edge_picture(), probs, num_iters=2)
    assert np.isfinite(marginals).all()
    assert boundary_columns(marginals.argmax(0)) == {EDGE}


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r'probs must be \(C, H, W\)'):
        dense_crf(edge_picture(), blurred_probs()[0])
    with pytest.raises(ValueError, match='image must be uint8 of shape'):
        dense_crf(edge_picture()[:, :-1], blurred_probs())
    with pytest.raises(ValueError, match='image must be uint8 of shape'):
        dense_crf(edge_picture().astype(np.float32), blurred_probs())


def test_missing_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'pydensecrf', None)
    with pytest.raises(ImportError, match='pip install pydensecrf2==1.1'):
        dense_crf(edge_picture(), blurred_probs())
    # A config asking for the CRF fails when the model is built.
    with pytest.raises(ImportError, match='pydensecrf2'):
        build_segmentor_from_config(CRF_CONFIG)


def test_unknown_crf_key_fails_at_build():
    with pytest.raises(ValueError, match=r"unknown keys \['bi_sxy'\]"):
        build_segmentor_from_config(
            CRF_CONFIG, dict(model=dict(test_cfg=dict(crf=dict(bi_sxy=3)))))


def crf_segmentor(probs):
    """The DeepLab-CRF config whose network predicts ``probs``."""
    model, cfg = build_segmentor_from_config(CRF_CONFIG)
    assert model.crf_cfg == DEEPLAB_V1_CRF
    model.inference = lambda img, img_meta, rescale: torch.from_numpy(probs)[
        None]
    return model, cfg


def view_input(cfg, flip):
    """The normalised picture as the test pipeline gives it, and its meta.
    """
    norm = cfg.img_norm_cfg
    picture = edge_picture()[:, ::-1] if flip else edge_picture()
    img = (picture - np.array(norm.mean)) / np.array(norm.std)
    img = torch.from_numpy(img.transpose(2, 0, 1).copy()).float()[None]
    shape = (HEIGHT, WIDTH, 3)
    meta = dict(img_shape=shape, ori_shape=shape, pad_shape=shape,
                flip=flip, flip_direction='horizontal',
                img_norm_cfg=dict(norm))
    return img, [meta]


@pytest.mark.parametrize('flip', [False, True])
def test_simple_test_refines_against_the_unflipped_picture(flip):
    """A flipped view's tensor is mirrored, its probabilities are not (the
    segmentor flipped them back): the CRF must mirror the picture back."""
    model, cfg = crf_segmentor(blurred_probs(num_classes=19))
    img, meta = view_input(cfg, flip)
    (labels, ) = model.simple_test(img, meta, rescale=True)
    assert labels.shape == (HEIGHT, WIDTH)
    assert boundary_columns(labels) == {EDGE}


def test_aug_test_refines_the_averaged_views():
    model, cfg = crf_segmentor(blurred_probs(num_classes=19))
    views = [view_input(cfg, flip) for flip in (False, True)]
    (labels, ) = model.aug_test([img for img, _ in views],
                                [meta for _, meta in views])
    assert boundary_columns(labels) == {EDGE}


def test_without_crf_cfg_the_stock_argmax_is_kept():
    model, cfg = crf_segmentor(blurred_probs(num_classes=19))
    model.crf_cfg = None
    (labels, ) = model.simple_test(*view_input(cfg, False), rescale=True)
    assert boundary_columns(labels) == {BLURRED_EDGE}
    assert 'crf' not in Config.fromfile(CRF_CONFIG.replace(
        'largefov-crf', 'largefov')).model.test_cfg
