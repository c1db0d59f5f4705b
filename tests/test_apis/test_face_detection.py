import os.path as osp

import cv2
import numpy as np
import pytest

from mmseg_face.apis import (Face, HaarCascadeFaceDetector, crop_face,
                             paste_face_labels)


def _dark_blob_centres(gray):
    count, _, stats, centroids = cv2.connectedComponentsWithStats(
        (gray < 50).astype(np.uint8))
    return [tuple(centroids[i]) for i in range(1, count)
            if stats[i, cv2.CC_STAT_AREA] > 3]


def test_crop_rotates_tilted_eyes_level():
    img = np.full((200, 200, 3), 255, np.uint8)
    left, right = (70, 80), (130, 110)  # eye line tilted by ~26.6 degrees
    for centre in (left, right):
        cv2.circle(img, centre, 5, (0, 0, 0), -1)
    face = Face(box=(50, 50, 150, 150), eyes=(left, right))

    crop, _ = crop_face(img, face, (96, 96), margin=0.25)

    centres = sorted(_dark_blob_centres(cv2.cvtColor(crop,
                                                     cv2.COLOR_BGR2GRAY)))
    assert len(centres) == 2
    (x1, y1), (x2, y2) = centres
    assert abs(y1 - y2) < 1.0          # level after alignment
    assert x1 < 48 < x2                # left eye stays on the left
    # Scale: 150 px crop side -> 96 px, eye distance 67.1 px -> 42.9 px.
    assert np.hypot(x2 - x1, y2 - y1) == pytest.approx(67.08 * 96 / 150,
                                                       abs=1.0)


def test_crop_then_paste_puts_labels_back_in_place():
    """Label a disc in the rotated crop; pasted back it covers the disc."""
    img = np.zeros((160, 220, 3), np.uint8)
    disc = np.zeros((160, 220), np.uint8)
    cv2.circle(disc, (150, 70), 22, 1, -1)
    img[disc == 1] = (0, 0, 255)
    face = Face(box=(120, 40, 180, 100), eyes=((135, 60), (165, 75)))

    crop, matrix = crop_face(img, face, (64, 64), margin=0.5)
    crop_labels = (crop[..., 2] > 127).astype(np.uint8) * 5
    labels = paste_face_labels(img.shape[:2], [crop_labels], [matrix], [face])

    pasted = labels == 5
    iou = (pasted & (disc == 1)).sum() / (pasted | (disc == 1)).sum()
    assert iou > 0.9
    assert set(np.unique(labels)) == {0, 5}


def test_overlapping_crops_keep_each_face_label_nearest_its_centre():
    faces = [Face(box=(0, 0, 40, 40)), Face(box=(30, 0, 70, 40))]
    identity = [np.float64([[1, 0, 0], [0, 1, 0]])] * 2
    full = np.ones((40, 80), np.uint8)
    labels = paste_face_labels((40, 80), [full, full * 2], identity, faces)
    assert (labels[:, :35] == 1).all()
    assert (labels[:, 36:] == 2).all()


def test_face_box_validation():
    with pytest.raises(ValueError, match='x2 > x1'):
        Face(box=(10, 10, 5, 20))


def test_default_detector_uses_cascades_bundled_with_opencv():
    detector = HaarCascadeFaceDetector()
    cascade_dir = osp.realpath(detector.cascade_dir)
    assert cascade_dir.startswith(osp.realpath(osp.dirname(cv2.__file__)))
    assert osp.isfile(osp.join(cascade_dir, detector.FACE_CASCADE))
    assert detector.detect(np.full((120, 160, 3), 128, np.uint8)) == []


def test_default_detector_needs_the_cascade_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='haarcascade'):
        HaarCascadeFaceDetector(cascade_dir=str(tmp_path))
