"""Tiny random-weight face parser and synthetic images for API/tool tests."""
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import torch

PARSE_FACES_TOOL = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
    'parse_faces.py')
TINY_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'test_apis', 'data',
    'tiny_fcn_celebamask.py')


def calibrate_batch_norms(model, batch):
    """Set every BN's statistics to the plain average over ``batch`` (one
    train-mode pass); leaves the model in eval mode."""
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average, not a moving one
    model.train()
    with torch.no_grad():
        model.forward_dummy(batch)
    model.eval()


def save_tiny_checkpoint(path, with_meta=True, seed=0):
    """Save random weights of the tiny config; returns ``path``.

    Random weights with BN statistics at their defaults give the same class
    everywhere, so the BN statistics are first estimated on a few smooth
    random images, and the classifier is drawn with unit scale: the labels
    then vary across an image, which the tests need to be meaningful.
    """
    import mmseg_face  # noqa: F401  (registers CelebAMaskHQDataset)
    from mmcv.cnn.utils import revert_sync_batchnorm
    from mmcv.runner import save_checkpoint
    from mmseg.apis import init_segmentor
    from mmseg_face.datasets import CelebAMaskHQDataset

    torch.manual_seed(seed)
    model = revert_sync_batchnorm(init_segmentor(TINY_CONFIG, device='cpu'))
    torch.nn.init.normal_(model.decode_head.conv_seg.weight, std=1.0)
    images = np.stack([smooth_image(64, 64, seed=s) for s in range(8)])
    batch = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    calibrate_batch_norms(model, (batch - 128) / 64)
    meta = dict(CLASSES=CelebAMaskHQDataset.CLASSES,
                PALETTE=CelebAMaskHQDataset.PALETTE) if with_meta else None
    save_checkpoint(model, path, meta=meta)
    return path


def draw_face(size, seed=0):
    """A cartoon frontal face filling a ``size x size`` BGR square.

    Hair, skin oval, brows, eyes, nose and mouth, with enough contrast for
    OpenCV's frontal-face Haar cascade to find it from about 128 px on.
    """
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 90, np.uint8)
    c = size // 2

    def pt(x, y):
        return int(round(x * size)), int(round(y * size))

    def ax(a, b):
        return max(int(round(a * size)), 1), max(int(round(b * size)), 1)

    skin = tuple(int(v) for v in rng.integers(150, 210, 3))
    cv2.ellipse(img, pt(0.5, 0.42), ax(0.36, 0.34), 0, 180, 360,
                (30, 40, 60), -1)  # hair
    cv2.ellipse(img, pt(0.5, 0.55), ax(0.28, 0.36), 0, 0, 360, skin, -1)
    for side in (-1, 1):
        x = 0.5 + side * 0.12
        cv2.ellipse(img, pt(x, 0.40), ax(0.07, 0.015), 0, 0, 360,
                    (30, 30, 40), -1)  # brow
        cv2.ellipse(img, pt(x, 0.47), ax(0.055, 0.03), 0, 0, 360,
                    (235, 235, 235), -1)  # eye white
        cv2.circle(img, pt(x, 0.47), max(size // 40, 1), (20, 20, 20), -1)
    cv2.line(img, pt(0.5, 0.50), pt(0.48, 0.62), (110, 120, 150),
             max(size // 60, 1))  # nose
    cv2.ellipse(img, (c, int(size * 0.72)), ax(0.10, 0.04), 0, 0, 360,
                (60, 60, 190), -1)  # mouth
    return img


def smooth_image(height, width, seed=0):
    """Smooth random BGR image (enough structure for several labels)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (4, 4, 3)).astype(np.uint8)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


def run_parse_faces(monkeypatch, *args):
    """Run ``tools/parse_faces.py`` in process (torch is not imported again)
    with ``args``; return its exit status."""
    monkeypatch.setattr(sys, 'argv', [PARSE_FACES_TOOL, *map(str, args)])
    try:
        runpy.run_path(PARSE_FACES_TOOL, run_name='__main__')
    except SystemExit as exit_:
        return exit_.code
    raise AssertionError('tools/parse_faces.py must exit with a status')


def moving_clip(num_frames, faces_per_frame, noise=12, seed=0):
    """Frames of drawn faces moving by small similarity motions, with
    sensor noise; returns the frames and each frame's true faces."""
    from mmseg_face.apis import Face
    from mmseg_face.datasets.sample_faces import compose_wild_scene
    rng = np.random.default_rng(seed)
    frames, faces = [], []
    for index in range(num_frames):
        placements = [
            (3 * np.sin(index / 3 + k), 0.3 + 0.01 * np.sin(index / 4),
             (50 + 70 * k + 2 * index, 60 + index)) for k in faces_per_frame
        ]
        scene = compose_wild_scene((120, 200), placements, face_size=256,
                                   seed=seed)
        noisy = scene['image'] + rng.normal(0, noise, scene['image'].shape)
        frames.append(np.clip(noisy, 0, 255).astype(np.uint8))
        faces.append([
            Face(box=tuple(box), landmarks=points + rng.normal(0, 0.5, (5, 2)))
            for box, points in zip(scene['boxes'], scene['landmarks'])
        ])
    return frames, faces


def label_flicker(label_maps):
    """Fraction of face pixels whose label changes from frame to frame."""
    changes = []
    for before, after in zip(label_maps, label_maps[1:]):
        face = (before > 0) | (after > 0)
        changes.append((before != after)[face].mean())
    return float(np.mean(changes))
