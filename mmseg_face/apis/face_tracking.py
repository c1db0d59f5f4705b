"""Faces tracked across video frames, with steady crops and steady labels.

:class:`FaceTracker` links each frame's detections to the tracks of the
previous frames and smooths their geometry; :class:`VideoFaceParser` runs
detection, tracking, parsing and paste-back frame after frame, smoothing each
track's class probabilities over time.

Matching is greedy on IoU: the pair (track, detection) of highest IoU is
linked first, then the next highest among the rest, down to
``iou_threshold``. Each track's box is its constant-velocity prediction, so
two faces that cross keep their ids as long as they keep moving as before.
A detection left over starts a new track with a new id (ids count up from 0
and are never reused); a track matched in no frame for more than
``max_missed`` frames ends.

Two smoothing factors, both the weight of the past in ``[0, 1)``, 0 meaning
no smoothing:

- ``landmark_smoothing`` (``θ``) smooths the box, eye centres and landmarks
  of each track with a critically damped alpha-beta filter (a fading-memory
  filter: gains ``α = 1 - θ²`` on position and ``β = (1 - θ)²`` on velocity).
  Unlike a plain moving average it follows steady motion without lagging
  behind, while detector jitter is damped, so crops do not shake.
- ``prob_smoothing`` (``λ``) is an exponential moving average of each
  track's class probabilities in crop space: ``p_t = λ p_(t-1) + (1 - λ)
  q_t`` with ``q_t`` the parser's output for frame ``t``. A label then needs
  about ``1 / (1 - λ)`` frames to follow a change (2.5 frames at the default
  0.6).
"""
import dataclasses
from dataclasses import dataclass, field
from typing import Dict, Optional

import numpy as np

from .face_alignment import paste_face_argmax, paste_face_probs
from .face_detection import as_face
from .face_parser import load_bgr_image

# Face fields holding pixel coordinates; the tracker smooths each one found.
POINT_FIELDS = ('box', 'eyes', 'landmarks')


def box_iou(boxes_a, boxes_b):
    """IoU of every box of ``boxes_a`` with every box of ``boxes_b``.

    Args:
        boxes_a (np.ndarray): ``(N, 4)`` boxes ``(x1, y1, x2, y2)``.
        boxes_b (np.ndarray): ``(M, 4)`` boxes.

    Returns:
        np.ndarray: ``(N, M)`` IoU.
    """
    a = np.asarray(boxes_a, np.float64).reshape(-1, 1, 4)
    b = np.asarray(boxes_b, np.float64).reshape(1, -1, 4)
    width = np.clip(np.minimum(a[..., 2], b[..., 2]) -
                    np.maximum(a[..., 0], b[..., 0]), 0, None)
    height = np.clip(np.minimum(a[..., 3], b[..., 3]) -
                     np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = width * height
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / (area_a + area_b - inter)


def greedy_match(iou, threshold):
    """Pairs ``(row, column)`` of highest IoU first, each row and column once.

    Args:
        iou (np.ndarray): ``(N, M)`` IoU of tracks (rows) and detections.
        threshold (float): Pairs below it are never matched.

    Returns:
        list[tuple[int, int]]: The matched pairs.
    """
    pairs = []
    if iou.size == 0:
        return pairs
    rows, columns = np.unravel_index(np.argsort(-iou, axis=None), iou.shape)
    used_rows, used_columns = set(), set()
    for row, column in zip(rows.tolist(), columns.tolist()):
        if iou[row, column] < threshold:
            break
        if row in used_rows or column in used_columns:
            continue
        pairs.append((row, column))
        used_rows.add(row)
        used_columns.add(column)
    return pairs


class PointFilter:
    """Critically damped alpha-beta filter of a set of 2-D points.

    Args:
        points (np.ndarray): The first measurement.
        smoothing (float): Weight of the past ``θ`` in ``[0, 1)``; 0 returns
            every measurement unchanged.
    """

    def __init__(self, points, smoothing):
        self.position = np.asarray(points, np.float64).copy()
        self.velocity = np.zeros_like(self.position)
        self.alpha = 1 - smoothing**2
        self.beta = (1 - smoothing)**2

    def predict(self):
        """Where the points should be in the next frame."""
        return self.position + self.velocity

    def update(self, points):
        """Fold in the next frame's measurement; returns the estimate."""
        predicted = self.predict()
        residual = np.asarray(points, np.float64) - predicted
        self.position = predicted + self.alpha * residual
        self.velocity = self.velocity + self.beta * residual
        return self.position.copy()

    def coast(self):
        """Advance one frame without a measurement."""
        self.position = self.predict()


@dataclass(eq=False)
class Track:
    """One face followed through a video.

    Attributes:
        track_id (int): Stable id, unique within the tracker.
        face (Face): The smoothed face of the latest matched frame.
        missed (int): Frames since it was last matched.
        filters (dict): A :class:`PointFilter` per point field of the face.
        probs (np.ndarray, optional): Smoothed ``(C, h, w)`` crop-space class
            probabilities (set by :class:`VideoFaceParser`).
    """
    track_id: int
    face: object
    missed: int = 0
    filters: Dict[str, PointFilter] = field(default_factory=dict)
    probs: Optional[np.ndarray] = None

    def predicted_box(self):
        """The box expected in the next frame, for matching."""
        x1, y1, x2, y2 = self.filters['box'].predict()
        if x2 <= x1 or y2 <= y1:  # a collapsing prediction: keep the last
            return np.asarray(self.face.box)
        return np.array([x1, y1, x2, y2])


def check_smoothing_factor(name, value):
    """Raise ValueError unless ``value`` is a smoothing factor in [0, 1)."""
    if not 0 <= value < 1:
        raise ValueError(f'{name} must be in [0, 1), got {value}')


class FaceTracker:
    """Link detections across frames into tracks with stable ids.

    See the module docstring for the matching rule and the filter.

    Args:
        iou_threshold (float): Least IoU between a track's predicted box and
            a detection to link them. Default: 0.3.
        max_missed (int): A track ends after this many frames in a row
            without a match. Default: 5.
        landmark_smoothing (float): Weight of the past ``θ`` of the box and
            landmark filter, in ``[0, 1)``; 0 turns smoothing off.
            Default: 0.5.
    """

    def __init__(self, iou_threshold=0.3, max_missed=5,
                 landmark_smoothing=0.5):
        if not 0 < iou_threshold <= 1:
            raise ValueError(f'iou_threshold must be in (0, 1], got '
                             f'{iou_threshold}')
        if max_missed < 0:
            raise ValueError(f'max_missed must be >= 0, got {max_missed}')
        check_smoothing_factor('landmark_smoothing', landmark_smoothing)
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.landmark_smoothing = landmark_smoothing
        self.tracks = []
        self._next_id = 0

    def update(self, faces):
        """Match one frame's faces to the tracks.

        Args:
            faces (list): The frame's :class:`Face` objects (or boxes).

        Returns:
            list[Track]: The track of each face, in the order of ``faces``;
            each track's ``face`` is the smoothed face.
        """
        faces = [as_face(face) for face in faces]
        predicted = np.array([t.predicted_box() for t in self.tracks])
        detected = np.array([face.box for face in faces])
        pairs = greedy_match(box_iou(predicted, detected),
                             self.iou_threshold)
        matched = [None] * len(faces)
        for row, column in pairs:
            matched[column] = self.tracks[row]
        for track in self.tracks:
            if track not in matched:
                track.missed += 1
                for point_filter in track.filters.values():
                    point_filter.coast()
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        for index, (face, track) in enumerate(zip(faces, matched)):
            if track is None:
                track = Track(track_id=self._next_id, face=face)
                self._next_id += 1
                self.tracks.append(track)
                matched[index] = track
            track.missed = 0
            track.face = self._smooth(track, face)
        return matched

    def _smooth(self, track, face):
        """The face with each point field replaced by its filtered value."""
        smoothed = {}
        for name in POINT_FIELDS:
            points = getattr(face, name, None)
            if points is None:
                continue
            points = np.asarray(points, np.float64)
            point_filter = track.filters.get(name)
            if point_filter is None or \
                    point_filter.position.shape != points.shape:
                track.filters[name] = PointFilter(points,
                                                  self.landmark_smoothing)
                continue
            smoothed[name] = point_filter.update(points)
        if 'box' in smoothed:
            x1, y1, x2, y2 = smoothed['box']
            if x2 <= x1 or y2 <= y1:  # the filter overshot: trust the frame
                track.filters['box'] = PointFilter(face.box,
                                                   self.landmark_smoothing)
                del smoothed['box']
            else:
                smoothed['box'] = (x1, y1, x2, y2)
        if 'eyes' in smoothed:
            smoothed['eyes'] = tuple(map(tuple, smoothed['eyes']))
        return dataclasses.replace(face, **smoothed)


@dataclass
class TrackedFrame:
    """What :class:`VideoFaceParser` found in one frame.

    Attributes:
        labels (np.ndarray): ``(H, W)`` uint8 class ids; pixels of no face
            are background.
        faces (list[Face]): The smoothed face of each track seen.
        track_ids (list[int]): The track id of each face.
        probs (np.ndarray, optional): ``(C, H, W)`` float32 class
            probabilities of the whole frame, from the smoothed crop
            probabilities (with ``return_probs=True`` only).
    """
    labels: np.ndarray
    faces: list
    track_ids: list
    probs: Optional[np.ndarray] = None


class VideoFaceParser:
    """Parse the faces of consecutive video frames with steady results.

    Each frame: detect (or take the given faces), link them to tracks
    (:class:`FaceTracker`), crop each track's smoothed face, parse all crops
    in one batch (:meth:`FaceParser.parse_crops`), average each track's crop
    probabilities over time with ``prob_smoothing`` and paste them back
    (:func:`~mmseg_face.apis.face_alignment.paste_face_probs`).

    Example:
        >>> video_parser = VideoFaceParser(FaceParser(CONFIG, CKPT))
        >>> for frame in video_parser.parse_video(frames):
        ...     frame.labels, frame.track_ids

    Args:
        parser (FaceParser): The face parser (its ``detector`` finds faces).
        prob_smoothing (float): Weight of the past ``λ`` of the moving
            average of class probabilities, in ``[0, 1)``; 0 turns it off.
            Default: 0.6.
        landmark_smoothing (float): See :class:`FaceTracker`. Default: 0.5.
        iou_threshold (float): See :class:`FaceTracker`. Default: 0.3.
        max_missed (int): See :class:`FaceTracker`. Default: 5.
    """

    def __init__(self,
                 parser,
                 prob_smoothing=0.6,
                 landmark_smoothing=0.5,
                 iou_threshold=0.3,
                 max_missed=5):
        check_smoothing_factor('prob_smoothing', prob_smoothing)
        self.parser = parser
        self.prob_smoothing = prob_smoothing
        self.tracker = FaceTracker(iou_threshold, max_missed,
                                   landmark_smoothing)

    def parse_frame(self, frame, faces=None, return_probs=False):
        """Parse the next frame of the video.

        Args:
            frame (np.ndarray): ``(H, W, 3)`` uint8 BGR frame.
            faces (list, optional): This frame's faces (:class:`Face` or
                boxes) instead of running the detector. Default: None.
            return_probs (bool): Also give the full-frame probabilities.
                Default: False.

        Returns:
            TrackedFrame: Labels, faces, track ids (and probabilities).
        """
        frame = load_bgr_image(frame)
        if faces is None:
            faces = self.parser.detector.detect(frame)
        tracks = self.tracker.update(faces)
        smoothed_faces = [track.face for track in tracks]
        crop_results = self.parser.parse_crops(frame, smoothed_faces)
        smoothed_results = []
        for track, (probs, warp) in zip(tracks, crop_results):
            track.probs = self._average(track.probs, probs)
            smoothed_results.append((track.probs, warp))
        ids = [track.track_id for track in tracks]
        if not return_probs:
            labels = paste_face_argmax(frame.shape[:2], smoothed_results)
            return TrackedFrame(labels, smoothed_faces, ids)
        probs = paste_face_probs(frame.shape[:2], smoothed_results,
                                 len(self.parser.classes))
        return TrackedFrame(
            probs.argmax(axis=0).astype(np.uint8), smoothed_faces, ids, probs)

    def parse_video(self, frames, return_probs=False):
        """Yield a :class:`TrackedFrame` for each frame of an iterable."""
        for frame in frames:
            yield self.parse_frame(frame, return_probs=return_probs)

    def _average(self, past, probs):
        if past is None or past.shape != probs.shape:
            return probs
        # In place: crops are (C, 512, 512) float32, tens of MB per face.
        past *= self.prob_smoothing
        past += probs * np.float32(1 - self.prob_smoothing)
        return past
