import glob
import os.path as osp

import numpy as np
import pytest

from mmseg_face.datasets.converters.celebamask_hq import PART_NAMES
from mmseg_face.datasets.sample_faces import (draw_face, make_sample_release,
                                              merge_celebamask_parts)


def _release_bytes(root):
    files = sorted(glob.glob(osp.join(root, '**', '*.*'), recursive=True))
    return {
        osp.relpath(path, root): open(path, 'rb').read()
        for path in files
    }


def test_release_is_deterministic_by_seed(tmp_path):
    first = _release_bytes(
        make_sample_release('helen', str(tmp_path / 'a'), 2, 32, seed=5))
    again = _release_bytes(
        make_sample_release('helen', str(tmp_path / 'b'), 2, 32, seed=5))
    other = _release_bytes(
        make_sample_release('helen', str(tmp_path / 'c'), 2, 32, seed=6))
    assert first == again
    assert first.keys() == other.keys()
    assert first != other


def test_celebamask_release_layout_has_every_part(tmp_path):
    root = make_sample_release(
        'celebamask_hq', str(tmp_path), num_images=2, image_size=64)
    parts = sorted(
        osp.basename(p)[len('00000_'):-len('.png')]
        for p in glob.glob(osp.join(root, 'CelebAMask-HQ-mask-anno', '0',
                                    '00000_*.png')))
    assert parts == sorted(PART_NAMES)
    assert osp.isfile(osp.join(root, 'CelebA-HQ-img', '1.jpg'))
    with open(osp.join(root, 'CelebA-HQ-to-CelebA-mapping.txt')) as f:
        assert f.readline().split() == ['idx', 'orig_idx', 'orig_file']


def test_faces_vary_but_parts_stay_in_place():
    rng = np.random.default_rng(0)
    nose_centres, images = [], []
    for _ in range(8):
        image, parts, landmarks = draw_face(rng, 96)
        label = merge_celebamask_parts(parts)
        ys, xs = np.nonzero(label == PART_NAMES.index('nose') + 1)
        nose_centres.append((ys.mean(), xs.mean()))
        images.append(image)
        assert landmarks.shape == (106, 2)
        # eyes above the nose above the mouth/lips
        eye_y = np.nonzero(label == 4)[0].mean()
        lip_y = np.nonzero(label == 12)[0].mean()
        assert eye_y < ys.mean() < lip_y
    nose_centres = np.array(nose_centres)
    assert np.all(np.abs(nose_centres - 48) < 0.15 * 96)
    assert nose_centres.std(axis=0).min() > 0.5  # pose varies
    assert len({img.tobytes() for img in images}) == 8


def test_bad_arguments():
    with pytest.raises(ValueError, match="'pascal' is not one of"):
        make_sample_release('pascal', '/tmp/unused')
    with pytest.raises(ValueError, match='labels have the image size'):
        make_sample_release('lapa', '/tmp/unused', image_size=32,
                            mask_size=16)
    with pytest.raises(ValueError, match='unknown accessories'):
        draw_face(np.random.default_rng(0), 32, accessories=('cape', ))
