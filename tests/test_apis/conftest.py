"""A tiny random-weight face parser shared by the API tests."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

TINY_CONFIG = osp.join(osp.dirname(__file__), 'data', 'tiny_fcn_celebamask.py')


def save_tiny_checkpoint(path, with_meta=True, seed=0):
    """Save random weights of the tiny config; returns ``path``.

    The classifier weights are drawn with unit scale (instead of mmseg's
    0.01) so that class scores are well apart and several classes appear.
    """
    import mmseg_face  # noqa: F401  (registers CelebAMaskHQDataset)
    from mmcv.runner import save_checkpoint
    from mmseg.apis import init_segmentor
    from mmseg_face.datasets import CelebAMaskHQDataset

    torch.manual_seed(seed)
    model = init_segmentor(TINY_CONFIG, device='cpu')
    torch.nn.init.normal_(model.decode_head.conv_seg.weight, std=1.0)
    meta = dict(CLASSES=CelebAMaskHQDataset.CLASSES,
                PALETTE=CelebAMaskHQDataset.PALETTE) if with_meta else None
    save_checkpoint(model, path, meta=meta)
    return path


def draw_face(size, seed=0):
    """A cartoon frontal face filling a ``size x size`` BGR square."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 90, np.uint8)
    c = size // 2
    skin = tuple(int(v) for v in rng.integers(140, 210, 3))
    cv2.ellipse(img, (c, int(size * 0.42)), (int(size * 0.36),
                int(size * 0.34)), 0, 180, 360, (30, 40, 60), -1)  # hair
    cv2.ellipse(img, (c, int(size * 0.55)), (int(size * 0.28),
                int(size * 0.36)), 0, 0, 360, skin, -1)
    for dx in (-1, 1):
        eye = (c + dx * int(size * 0.11), int(size * 0.47))
        cv2.circle(img, eye, max(size // 20, 1), (20, 20, 20), -1)
    cv2.ellipse(img, (c, int(size * 0.72)), (int(size * 0.10),
                int(size * 0.04)), 0, 0, 360, (60, 60, 190), -1)  # mouth
    return img


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(
        str(tmp_path_factory.mktemp('tiny') / 'tiny_fcn.pth'))


@pytest.fixture(scope='session')
def tiny_parser(tiny_checkpoint):
    from mmseg_face.apis import FaceParser
    return FaceParser(TINY_CONFIG, tiny_checkpoint, device='cpu')


@pytest.fixture
def smooth_image():
    """Build smooth random BGR images (enough structure for many labels)."""

    def make(height, width, seed=0):
        rng = np.random.default_rng(seed)
        coarse = rng.integers(0, 256, (4, 4, 3)).astype(np.uint8)
        return cv2.resize(coarse, (width, height),
                          interpolation=cv2.INTER_CUBIC)

    return make
