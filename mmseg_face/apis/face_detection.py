"""Face detection and the box crop for faces in the wild.

A detector is any object with ``detect(img) -> list[Face]`` (see
:class:`FaceDetector`); ``detect_batch(imgs)`` runs several images at once.
The default, :class:`MTCNNFaceDetector`, is facenet-pytorch's MTCNN with the
weights that ship inside its wheel: boxes, scores and five landmarks, no
download. :class:`HaarCascadeFaceDetector` (OpenCV's bundled cascades) is the
fallback without landmarks. How faces are then cropped and pasted back is in
:mod:`mmseg_face.apis.face_alignment`; the ``box`` crop, a square around the
box plus a margin levelled by the eyes, is :func:`face_to_crop_matrix` here.
"""
import math
import os.path as osp
from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np
import torch
from torchvision.ops import batched_nms

LANDMARK_NAMES = ('right_eye', 'left_eye', 'nose', 'right_mouth',
                  'left_mouth')


@dataclass
class Face:
    """One face in an image.

    Coordinates are pixels in OpenCV's convention: ``(x, y)``, the centre of
    pixel (row i, column j) is ``(j, i)``.

    Args:
        box (tuple[float]): ``(x1, y1, x2, y2)``.
        eyes (tuple, optional): ``((x, y), (x, y))`` centres of the eye on the
            image's left and the eye on the image's right. When given, the
            ``box`` crop is rotated so that the eyes are level. Default: the
            first two landmarks, if any.
        landmarks (array-like, optional): ``(5, 2)`` points in the order of
            :data:`LANDMARK_NAMES`, which is the order CelebA, MTCNN and
            facer use: the subject's right eye, the subject's left eye, the
            nose tip, the subject's right mouth corner, the subject's left
            mouth corner. Subject's right is the image's left for a face
            looking at the camera, so for an upright face the points run
            left to right in the image (eyes, then mouth corners). Default:
            None.
        score (float, optional): Detector confidence. Default: None.
    """
    box: Tuple[float, float, float, float]
    eyes: Optional[Tuple[Tuple[float, float], Tuple[float, float]]] = None
    landmarks: Optional[np.ndarray] = None
    score: Optional[float] = None

    def __post_init__(self):
        x1, y1, x2, y2 = (float(v) for v in self.box)
        if not (x2 > x1 and y2 > y1):
            raise ValueError(f'face box {self.box} must satisfy x2 > x1 and '
                             f'y2 > y1')
        self.box = (x1, y1, x2, y2)
        if self.landmarks is not None:
            points = np.asarray(self.landmarks, dtype=np.float64)
            if points.shape != (5, 2) or not np.isfinite(points).all():
                raise ValueError(f'face landmarks must be a finite (5, 2) '
                                 f'array, got shape {points.shape}')
            self.landmarks = points
            if self.eyes is None:
                self.eyes = (tuple(points[0]), tuple(points[1]))


def as_face(face):
    """Accept a :class:`Face` or a plain ``(x1, y1, x2, y2)`` box."""
    if isinstance(face, Face):
        return face
    box = tuple(face)
    if len(box) != 4:
        raise ValueError(f'a face box needs 4 numbers (x1, y1, x2, y2), got '
                         f'{face!r}')
    return Face(box=box)


class FaceDetector:
    """Interface of face detectors used by :class:`FaceParser`.

    Subclasses (or any duck-typed object) implement :meth:`detect`.
    """

    def detect(self, img):
        """Find the faces in one image.

        Args:
            img (np.ndarray): ``(H, W, 3)`` uint8 BGR image.

        Returns:
            list[Face]: The faces found, possibly none.
        """
        raise NotImplementedError

    def detect_batch(self, imgs):
        """Find the faces in several images; one list of faces per image."""
        return [self.detect(img) for img in imgs]


def keep_large_faces(faces, min_relative_size):
    """Drop faces whose box side is below ``min_relative_size`` times the
    largest face's side in the same image (tiny boxes on background)."""
    if not faces or min_relative_size <= 0:
        return list(faces)
    sides = [max(f.box[2] - f.box[0], f.box[3] - f.box[1]) for f in faces]
    limit = min_relative_size * max(sides)
    return [face for face, side in zip(faces, sides) if side >= limit]


class MTCNNFaceDetector(FaceDetector):
    """MTCNN (Zhang et al., 2016): boxes, scores and five landmarks.

    The P-, R- and O-nets and their weights are facenet-pytorch's (the
    weights ship inside its wheel, so it works offline), as are its box
    helpers. The cascade is driven here rather than by facenet-pytorch's
    ``detect_face``, which resizes every pyramid level and every candidate
    box with torch's ``area`` interpolation (``adaptive_avg_pool2d``, most
    of its CPU time); OpenCV's ``INTER_AREA`` does the same resampling in a
    fraction of the time. Images of the same size share each pass.

    Args:
        min_face_size (int): Smallest face side searched, in pixels.
            Default: 20.
        min_face_ratio (float): Smallest face side as a fraction of the
            image's shorter side; the larger of the two limits applies.
            Faces below it are too small to parse, and the search time
            falls with its square. Default: 0.05 (24 px at 480p, 54 px at
            1080p).
        score_threshold (float): Minimum final (O-net) score. Default: 0.9.
        min_relative_size (float): Drop faces smaller than this fraction of
            the largest face of the same image (0 keeps all). Default: 0.2.
        stage_thresholds (tuple[float]): P-, R-, O-net thresholds of the
            cascade. Default: facenet-pytorch's (0.6, 0.7, 0.7).
        device (str): Torch device. Default: 'cpu'.
    """

    PYRAMID_FACTOR = 0.709  # facenet-pytorch's scale step

    def __init__(self,
                 min_face_size=20,
                 min_face_ratio=0.05,
                 score_threshold=0.9,
                 min_relative_size=0.2,
                 stage_thresholds=(0.6, 0.7, 0.7),
                 device='cpu'):
        if min_face_size < 12:
            raise ValueError(f'min_face_size must be >= 12 (MTCNN\'s '
                             f'smallest window), got {min_face_size}')
        try:
            from facenet_pytorch.models.mtcnn import ONet, PNet, RNet
        except ImportError as error:
            raise ImportError(
                f'MTCNNFaceDetector needs facenet-pytorch ({error}); install '
                f'it with `pip install --no-deps facenet-pytorch==2.6.0` '
                f'(`make install` does) or use HaarCascadeFaceDetector') \
                from error
        self.min_face_size = min_face_size
        self.min_face_ratio = min_face_ratio
        self.score_threshold = score_threshold
        self.min_relative_size = min_relative_size
        self.stage_thresholds = tuple(stage_thresholds)
        self.device = torch.device(device)
        self.pnet, self.rnet, self.onet = (
            net().to(self.device).eval() for net in (PNet, RNet, ONet))

    def detect(self, img):
        return self.detect_batch([img])[0]

    def detect_batch(self, imgs):
        groups = {}
        for index, img in enumerate(imgs):
            groups.setdefault(img.shape[:2], []).append(index)
        found = [None] * len(imgs)
        for indices in groups.values():
            with torch.no_grad():
                boxes, points, image_inds = self._cascade(
                    [imgs[i] for i in indices])
            min_size = self._min_size(*imgs[indices[0]].shape[:2])
            for position, index in enumerate(indices):
                mine = image_inds == position
                found[index] = self._faces(boxes[mine], points[mine],
                                           min_size)
        return found

    def _min_size(self, height, width):
        return max(self.min_face_size, self.min_face_ratio * min(height,
                                                                  width))

    def _cascade(self, images):
        """facenet-pytorch's three stages on BGR images of one size.

        Returns ``(N, 5)`` boxes with scores, ``(N, 5, 2)`` points and the
        ``(N, )`` image index of each, as numpy arrays.
        """
        from facenet_pytorch.models.utils import detect_face as mtcnn_utils

        height, width = images[0].shape[:2]
        thresholds = self.stage_thresholds
        scale = 12.0 / self._min_size(height, width)
        boxes, image_inds = [], []
        level = images
        while min(height, width) * scale >= 12:
            size = (int(width * scale + 1), int(height * scale + 1))
            # Each level from the one before: a few pixels' work each.
            level = [cv2.resize(img, size, interpolation=cv2.INTER_AREA)
                     for img in level]
            reg, probs = self.pnet(self._normalise(np.stack(level)))
            level_boxes, level_inds = mtcnn_utils.generateBoundingBox(
                reg, probs[:, 1], scale, thresholds[0])
            keep = batched_nms(level_boxes[:, :4], level_boxes[:, 4],
                               level_inds, 0.5)
            boxes.append(level_boxes[keep])
            image_inds.append(level_inds[keep])
            scale *= self.PYRAMID_FACTOR
        boxes = torch.cat(boxes) if boxes else torch.zeros(0, 9)
        image_inds = torch.cat(image_inds) if image_inds else torch.zeros(
            0, dtype=torch.long)
        keep = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
        boxes, image_inds = boxes[keep], image_inds[keep]
        # P-net's own box regression, then squares.
        size_w = boxes[:, 2] - boxes[:, 0]
        size_h = boxes[:, 3] - boxes[:, 1]
        boxes = mtcnn_utils.rerec(torch.stack([
            boxes[:, 0] + boxes[:, 5] * size_w,
            boxes[:, 1] + boxes[:, 6] * size_h,
            boxes[:, 2] + boxes[:, 7] * size_w,
            boxes[:, 3] + boxes[:, 8] * size_h, boxes[:, 4]
        ], 1))

        if len(boxes):
            reg, probs = self.rnet(
                self._box_crops(images, boxes, image_inds, 24))
            passed = probs[:, 1] > thresholds[1]
            boxes = torch.cat([boxes[passed, :4], probs[passed, 1:2]], 1)
            image_inds, reg = image_inds[passed], reg[passed]
            keep = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
            boxes = mtcnn_utils.rerec(
                mtcnn_utils.bbreg(boxes[keep], reg[keep]))
            image_inds = image_inds[keep]

        points = torch.zeros(0, 5, 2)
        if len(boxes):
            reg, marks, probs = self.onet(
                self._box_crops(images, boxes, image_inds, 48))
            passed = probs[:, 1] > thresholds[2]
            boxes = torch.cat([boxes[passed, :4], probs[passed, 1:2]], 1)
            image_inds, reg, marks = (image_inds[passed], reg[passed],
                                      marks[passed])
            # O-net's points are fractions of the box (facenet-pytorch's
            # 1-based pixel offset included).
            box_w = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
            box_h = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
            points = torch.stack([
                box_w * marks[:, :5] + boxes[:, :1] - 1,
                box_h * marks[:, 5:] + boxes[:, 1:2] - 1
            ], 2)
            boxes = mtcnn_utils.bbreg(boxes, reg)
            keep = mtcnn_utils.batched_nms_numpy(boxes[:, :4], boxes[:, 4],
                                                 image_inds, 0.7, 'Min')
            boxes, image_inds, points = (boxes[keep], image_inds[keep],
                                         points[keep])
        return (boxes.cpu().numpy(), points.cpu().numpy(),
                image_inds.cpu().numpy())

    def _normalise(self, bgr):
        """``(B, h, w, 3)`` BGR uint8 -> the nets' RGB input, in [-1, 1]."""
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        data = torch.from_numpy(rgb).to(self.device)
        return (data.permute(0, 3, 1, 2).float() - 127.5) * 0.0078125

    def _box_crops(self, images, boxes, image_inds, size):
        """Each box's pixels, clipped to its image, resized to ``size``
        square (facenet-pytorch's 1-based ``pad`` bounds).

        A box at least twice ``size`` is cut from a copy of the image halved
        as often as that holds: the same area average from a fraction of
        the pixels (large faces have many candidate boxes).
        """
        from facenet_pytorch.models.utils.detect_face import pad
        height, width = images[0].shape[:2]
        y, ey, x, ex = pad(boxes, width, height)
        halved = {}
        crops = np.zeros((len(boxes), size, size, 3), np.uint8)
        for k, index in enumerate(image_inds.tolist()):
            top, bottom, left, right = y[k] - 1, ey[k], x[k] - 1, ex[k]
            if bottom <= top or right <= left:
                continue
            level = int(np.log2(max(min(bottom - top, right - left) / size,
                                    1)))
            source = self._halved(images, index, level, halved)
            step = 2**level
            crops[k] = cv2.resize(
                source[top // step:-(-bottom // step),
                       left // step:-(-right // step)], (size, size),
                interpolation=cv2.INTER_AREA)
        return self._normalise(crops)

    @staticmethod
    def _halved(images, index, level, cache):
        """``images[index]`` halved ``level`` times, memoised in ``cache``."""
        if level == 0:
            return images[index]
        if (index, level) not in cache:
            larger = MTCNNFaceDetector._halved(images, index, level - 1,
                                               cache)
            cache[index, level] = cv2.resize(
                larger, (max(larger.shape[1] // 2, 1),
                         max(larger.shape[0] // 2, 1)),
                interpolation=cv2.INTER_AREA)
        return cache[index, level]

    def _faces(self, boxes, points, min_size):
        faces = []
        for box, landmarks in zip(boxes, points):
            x1, y1, x2, y2, score = (float(v) for v in box)
            if score < self.score_threshold or x2 <= x1 or y2 <= y1:
                continue
            if max(x2 - x1, y2 - y1) < min_size:
                continue
            faces.append(Face(box=(x1, y1, x2, y2), landmarks=landmarks,
                              score=score))
        faces = keep_large_faces(faces, self.min_relative_size)
        return sorted(faces, key=lambda face: -face.score)


class HaarCascadeFaceDetector(FaceDetector):
    """Viola-Jones face detector from OpenCV's bundled Haar cascades.

    The cascade files come with ``opencv-python`` (``cv2.data.haarcascades``),
    so it works offline. The fallback of :class:`MTCNNFaceDetector`: frontal
    faces only, no landmarks (eye centres at best), more false positives.

    Args:
        scale_factor (float): Image-pyramid step. Default: 1.1.
        min_neighbors (int): Overlapping hits needed to keep a face; higher
            means fewer false positives. Default: 5.
        min_size (int): Smallest face side in pixels. Default: 24.
        find_eyes (bool): Also run the eye cascade in the upper half of each
            face, so that crops can be rotated upright. Default: True.
        cascade_dir (str, optional): Folder holding the cascade XML files.
            Default: ``cv2.data.haarcascades``.
    """

    FACE_CASCADE = 'haarcascade_frontalface_default.xml'
    EYE_CASCADE = 'haarcascade_eye.xml'

    def __init__(self,
                 scale_factor=1.1,
                 min_neighbors=5,
                 min_size=24,
                 find_eyes=True,
                 cascade_dir=None):
        self.cascade_dir = cascade_dir or cv2.data.haarcascades
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.face_cascade = self._load(self.FACE_CASCADE)
        self.eye_cascade = self._load(self.EYE_CASCADE) if find_eyes else None

    def _load(self, name):
        path = osp.join(self.cascade_dir, name)
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise FileNotFoundError(
                f'cannot load the Haar cascade {path}; is opencv-python '
                f'installed with its data files?')
        return cascade

    def detect(self, img):
        gray = cv2.equalizeHist(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
        boxes = self.face_cascade.detectMultiScale(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size))
        faces = []
        for x, y, w, h in np.asarray(boxes).reshape(-1, 4):
            eyes = self._find_eyes(gray, x, y, w, h) if self.eye_cascade \
                else None
            faces.append(Face(box=(x, y, x + w, y + h), eyes=eyes))
        return faces

    def _find_eyes(self, gray, x, y, w, h):
        """Eye centres, or None unless exactly one eye per face half."""
        upper = gray[y:y + h // 2, x:x + w]
        hits = self.eye_cascade.detectMultiScale(
            upper, scaleFactor=1.1, minNeighbors=5,
            minSize=(max(w // 10, 4), max(w // 10, 4)))
        centres = [(x + ex + ew / 2, y + ey + eh / 2)
                   for ex, ey, ew, eh in np.asarray(hits).reshape(-1, 4)]
        left = [c for c in centres if c[0] < x + w / 2]
        right = [c for c in centres if c[0] >= x + w / 2]
        if len(left) != 1 or len(right) != 1:
            return None
        return left[0], right[0]


def face_to_crop_matrix(face, crop_size, margin=0.5):
    """Affine transform from image pixels to an aligned square face crop.

    The crop is centred on the box centre and spans ``max(w, h) * (1 + 2 *
    margin)`` image pixels, so ``margin`` is the extra context on each side
    as a fraction of the box size. If the face has eye centres, the crop is
    rotated so that they lie on a horizontal line.

    Args:
        face (Face): The face.
        crop_size (tuple[int]): ``(height, width)`` of the crop.
        margin (float): Context added on each side. Default: 0.5.

    Returns:
        np.ndarray: ``(2, 3)`` float64 matrix mapping image to crop pixels.
    """
    if margin < 0:
        raise ValueError(f'margin must be >= 0, got {margin}')
    x1, y1, x2, y2 = face.box
    centre = ((x1 + x2) / 2, (y1 + y2) / 2)
    side = max(x2 - x1, y2 - y1) * (1 + 2 * margin)
    crop_h, crop_w = crop_size
    scale = min(crop_h, crop_w) / side
    angle = 0.0
    if face.eyes is not None:
        (lx, ly), (rx, ry) = face.eyes
        angle = math.degrees(math.atan2(ry - ly, rx - lx))
    # getRotationMatrix2D turns counter-clockwise for positive angles (image
    # y points down), which levels an eye line that slopes by +angle.
    matrix = cv2.getRotationMatrix2D(centre, angle, scale)
    matrix[0, 2] += crop_w / 2 - centre[0]
    matrix[1, 2] += crop_h / 2 - centre[1]
    return matrix


def crop_face(img, face, crop_size, margin=0.5):
    """Cut an aligned face crop out of an image.

    Args:
        img (np.ndarray): ``(H, W, 3)`` BGR image.
        face (Face): The face.
        crop_size (tuple[int]): ``(height, width)`` of the crop.
        margin (float): See :func:`face_to_crop_matrix`. Default: 0.5.

    Returns:
        tuple[np.ndarray, np.ndarray]: The crop and its image-to-crop matrix.
        Pixels outside the image are black.
    """
    matrix = face_to_crop_matrix(face, crop_size, margin)
    crop = cv2.warpAffine(
        img, matrix, (crop_size[1], crop_size[0]),
        flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return crop, matrix


def paste_face_labels(image_shape, crop_labels, matrices, faces):
    """Warp parsed crops back into one full-image label map.

    Background (0) is everywhere no crop reaches. Where crops overlap, a
    foreground label beats background, and between foreground labels the
    face whose box centre is nearest wins, so a neighbour's margin never
    paints over a face.

    Args:
        image_shape (tuple[int]): ``(H, W)`` of the full image.
        crop_labels (list[np.ndarray]): Label map of each crop.
        matrices (list[np.ndarray]): Image-to-crop matrix of each crop.
        faces (list[Face]): The faces, for their centres.

    Returns:
        np.ndarray: ``(H, W)`` uint8 label map.
    """
    height, width = image_shape[:2]
    labels = np.zeros((height, width), np.uint8)
    nearest = np.full((height, width), np.inf, np.float32)
    ys, xs = np.mgrid[:height, :width].astype(np.float32)
    for crop, matrix, face in zip(crop_labels, matrices, faces):
        warped = cv2.warpAffine(
            np.ascontiguousarray(crop, dtype=np.uint8), matrix,
            (width, height),
            flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        x1, y1, x2, y2 = face.box
        distance = np.hypot(xs - (x1 + x2) / 2, ys - (y1 + y2) / 2)
        wins = (warped > 0) & (distance < nearest)
        labels[wins] = warped[wins]
        nearest[wins] = distance[wins]
    return labels
