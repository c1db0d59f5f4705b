import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmseg_face.apis import (Face, HaarCascadeFaceDetector, MTCNNFaceDetector,
                             crop_face, paste_face_labels)
from mmseg_face.apis.face_detection import keep_large_faces


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


def test_haar_detector_uses_cascades_bundled_with_opencv():
    detector = HaarCascadeFaceDetector()
    cascade_dir = osp.realpath(detector.cascade_dir)
    assert cascade_dir.startswith(osp.realpath(osp.dirname(cv2.__file__)))
    assert osp.isfile(osp.join(cascade_dir, detector.FACE_CASCADE))
    assert detector.detect(np.full((120, 160, 3), 128, np.uint8)) == []


def test_haar_detector_needs_the_cascade_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='haarcascade'):
        HaarCascadeFaceDetector(cascade_dir=str(tmp_path))


def test_landmarks_give_the_eyes_and_are_validated():
    points = [(10, 20), (30, 21), (20, 30), (12, 40), (28, 41)]
    face = Face(box=(0, 0, 40, 50), landmarks=points)
    assert face.landmarks.shape == (5, 2)
    assert face.eyes == ((10.0, 20.0), (30.0, 21.0))
    with pytest.raises(ValueError, match=r'\(5, 2\).*\(4, 2\)'):
        Face(box=(0, 0, 40, 50), landmarks=points[:4])
    with pytest.raises(ValueError, match='finite'):
        Face(box=(0, 0, 40, 50), landmarks=[(np.nan, 0)] + points[1:])


def test_small_faces_far_below_the_largest_are_dropped():
    faces = [Face(box=(0, 0, 100, 120)), Face(box=(200, 0, 230, 30)),
             Face(box=(300, 0, 310, 10))]
    assert keep_large_faces(faces, 0.2) == faces[:2]
    assert keep_large_faces(faces, 0) == faces
    assert keep_large_faces([], 0.2) == []


# The astronaut (Eileen Collins, NASA, public domain) as scikit-image ships
# it, 512 x 512. Hand-checked on an 8x enlargement with a 5-pixel grid: iris
# centres, the nose tip, the mouth corners; (x, y), image-left point first.
ASTRONAUT_LANDMARKS = np.array([(203, 101), (246, 103.5), (222.5, 126),
                                (204, 140), (243, 142)])
ASTRONAUT_EYE_DISTANCE = 43.1
# Allowed error of each point: 15% of the eye distance, 6.5 pixels (the
# usual 5-point error scale; the mouth corners of a smile are the least
# sharply defined).
LANDMARK_TOLERANCE = 0.15 * ASTRONAUT_EYE_DISTANCE


@pytest.fixture(scope='module')
def astronaut_bgr():
    from skimage import data
    return np.ascontiguousarray(data.astronaut()[..., ::-1])


@pytest.fixture(scope='module')
def mtcnn():
    return MTCNNFaceDetector()


def test_mtcnn_finds_the_astronaut_and_her_five_points(astronaut_bgr, mtcnn):
    faces = mtcnn.detect(astronaut_bgr)

    assert len(faces) == 1
    face = faces[0]
    errors = np.hypot(*(face.landmarks - ASTRONAUT_LANDMARKS).T)
    assert errors.max() < LANDMARK_TOLERANCE, errors
    x1, y1, x2, y2 = face.box
    assert x1 < 203 and x2 > 246 and y1 < 101 and y2 > 142
    assert face.score >= mtcnn.score_threshold


def test_mtcnn_batches_images_of_any_sizes(astronaut_bgr, mtcnn):
    small = cv2.resize(astronaut_bgr, (256, 256))
    blank = np.full((120, 160, 3), 128, np.uint8)

    found = mtcnn.detect_batch([astronaut_bgr, blank, small, astronaut_bgr])

    assert [len(faces) for faces in found] == [1, 0, 1, 1]
    np.testing.assert_allclose(found[2][0].landmarks * 2,
                               found[0][0].landmarks, atol=4)
    np.testing.assert_allclose(found[3][0].landmarks, found[0][0].landmarks)


def test_mtcnn_options_filter_faces(astronaut_bgr):
    assert MTCNNFaceDetector(score_threshold=1.01).detect(astronaut_bgr) == []
    # The face is about 90 pixels wide: a larger minimum skips it.
    assert MTCNNFaceDetector(min_face_size=200).detect(astronaut_bgr) == []
    assert MTCNNFaceDetector(min_face_ratio=0.5).detect(astronaut_bgr) == []
    assert len(MTCNNFaceDetector(min_face_ratio=0.1).detect(
        astronaut_bgr)) == 1
    with pytest.raises(ValueError, match='min_face_size must be >= 12'):
        MTCNNFaceDetector(min_face_size=8)


def test_mtcnn_weights_come_from_inside_the_wheel(monkeypatch,
                                                  astronaut_bgr):
    import urllib.request

    import facenet_pytorch
    import torch

    def offline(*args, **kwargs):
        raise AssertionError('the detector tried to download something')

    monkeypatch.setattr(urllib.request, 'urlopen', offline)
    monkeypatch.setattr(torch.hub, 'download_url_to_file', offline)
    data_dir = osp.join(osp.dirname(facenet_pytorch.__file__), 'data')
    assert {'pnet.pt', 'rnet.pt', 'onet.pt'} <= set(os.listdir(data_dir))
    assert len(MTCNNFaceDetector().detect(astronaut_bgr)) == 1
