"""Parse an image file, a folder of images or a video into output files.

Logic behind ``tools/parse_faces.py``. Outputs under ``out_dir``:

- ``labels/<name>.png``: uint8 class ids (single channel).
- ``overlays/<name>.png``: the image blended with the dataset palette.
- ``masks/<class>/<name>.png``: 0/255 mask of each requested class.

``<name>`` is the input file's stem, or ``<video stem>_<frame:06d>`` for
video frames (``webcam<index>_<frame:06d>`` for a webcam). A video or webcam
also gives ``<video stem>_overlay.mp4``, the overlays as a video at the
input's frame rate; in the wild its faces are tracked from frame to frame
(:class:`VideoFaceParser`).
"""
import json
import math
import os
import os.path as osp
import time
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path

import cv2
import mmcv
import torch

from mmseg_face.utils.atomic_io import (remove_stale_temporaries,
                                        write_files_atomically)
from .face_detection import Face, as_face
from .face_parser import ImageReadError, load_bgr_image
from .face_tracking import VideoFaceParser
from .video_io import AtomicVideoWriter, VideoSource
from .visualization import class_masks, render_overlay, resolve_class_ids

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v')


class ParseInputError(ValueError):
    """An argument of :func:`parse_to_dir` (boxes, masks) is unusable."""


class OutputWriteError(OSError):
    """An output file or folder cannot be written (the run stops: a full
    disk or a read-only folder fails every later file too)."""


@dataclass
class ParseSummary:
    """What a run of :func:`parse_to_dir` did.

    Attributes:
        written (list[str]): Names of the parsed images/frames.
        failed (list[tuple[str, str]]): ``(input, reason)`` of each input
            that could not be parsed.
        ignored (list[str]): Folder entries skipped for not having an image
            extension.
        in_the_wild (bool): Faces were detected or given as boxes, aligned
            and parsed one by one.
        num_faces (int): Faces parsed (in-the-wild mode only).
        without_faces (list[str]): Images where no face was found or given.
        video (str, optional): The overlay video written (video input only).
        seconds (float): Time spent reading, parsing and writing.
    """
    written: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    ignored: list = field(default_factory=list)
    in_the_wild: bool = False
    num_faces: int = 0
    without_faces: list = field(default_factory=list)
    video: str = None
    seconds: float = 0.0

    def format(self):
        """Human-readable multi-line report (face counts in the wild)."""
        lines = [f'parsed {len(self.written)} image(s), '
                 f'{len(self.failed)} failed']
        if self.in_the_wild:
            lines.append(f'faces parsed: {self.num_faces}; images without a '
                         f'face: {len(self.without_faces)}')
        if self.video is not None:
            fps = len(self.written) / self.seconds if self.seconds else 0.0
            lines.append(f'overlay video: {self.video} ({len(self.written)} '
                         f'frames in {self.seconds:.1f} s, {fps:.2f} '
                         f'frames/s)')
        if self.ignored:
            lines.append(f'ignored {len(self.ignored)} non-image file(s): '
                         f'{", ".join(self.ignored)}')
        lines += [f'FAILED {name}: {reason}' for name, reason in self.failed]
        return '\n'.join(lines)


def _is_video(path):
    return path.suffix.lower() in VIDEO_EXTENSIONS


def _folder_images(folder, summary):
    """Image files of a folder (not recursive), sorted by name."""
    images = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            images.append(path)
        else:
            summary.ignored.append(path.name)
    return images


def _output_names(paths):
    """Stems of the inputs, keeping the suffix where two stems clash."""
    stems = [p.stem for p in paths]
    return [
        f'{p.stem}_{p.suffix.lstrip(".")}' if stems.count(p.stem) > 1 else
        p.stem for p in paths
    ]


def _iter_images(paths, summary):
    """Yield ``(name, key, image)``; unreadable files go to ``summary.failed``
    with a None image. ``key`` is the file name, as used in a boxes file."""
    for path, name in zip(paths, _output_names(paths)):
        try:
            yield name, path.name, load_bgr_image(path)
        except ImageReadError as error:
            summary.failed.append((str(path), error.reason))
            yield name, path.name, None


def _encode_png(path, img):
    ok, encoded = cv2.imencode('.png', img)
    if not ok:
        raise OutputWriteError(f'cannot encode {path} as PNG')
    return path, encoded.tobytes()


def _make_out_dirs(out_dir, masks):
    """Create the output folders before any work, naming the one that
    cannot be created, and remove what killed runs left half-written."""
    folders = [out_dir, osp.join(out_dir, 'labels'),
               osp.join(out_dir, 'overlays')]
    folders += [osp.join(out_dir, 'masks', name) for name in masks]
    for folder in folders:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as error:
            raise OutputWriteError(
                f'cannot create output folder {folder}: '
                f'{error.strerror or error}') from error
        if not os.access(folder, os.W_OK):
            raise OutputWriteError(f'output folder {folder} is not writable')
        remove_stale_temporaries(folder)


def parse_to_dir(parser,
                 source,
                 out_dir,
                 masks=(),
                 detect_faces=False,
                 boxes=None,
                 opacity=0.5,
                 show_progress=True,
                 prob_smoothing=0.6,
                 landmark_smoothing=0.5,
                 max_frames=None):
    """Parse an image, a folder of images or a video and write the results.

    Unreadable inputs (and video frames that fail to decode), boxes lying
    outside their image and images that run out of memory are skipped and
    recorded in the summary, as is a video that ends before the frame count
    of its header; everything the arguments name is checked before the first
    image is parsed.

    Args:
        parser (FaceParser): The parser.
        source (str | Path | int): Image file, folder, video file, or the
            index of a webcam (read until ``max_frames`` or Ctrl-C).
        out_dir (str | Path): Output folder.
        masks (Sequence[str]): Class names to write binary masks for.
            Default: ().
        detect_faces (bool): Detect, align and parse each face and paste the
            labels back (:meth:`FaceParser.parse_wild`); otherwise each image
            is parsed whole. Default: False.
        boxes (dict, optional): Face boxes given by the user, skipping
            detection: ``{key: [[x1, y1, x2, y2], ...]}`` where ``key`` is
            an image's file name (``'group.jpg'``) or a video frame's output
            name (``'clip_000012'``). Listed inputs are parsed in the wild
            with these boxes; the others are detected with
            ``detect_faces=True`` and fail otherwise. Default: None.
        opacity (float): Overlay opacity. Default: 0.5.
        show_progress (bool): Show an ``mmcv.ProgressBar``. Default: True.
        prob_smoothing (float): Video in the wild: weight of the past of
            each face's class probabilities, in ``[0, 1)``; 0 turns it off
            (see :class:`VideoFaceParser`). Default: 0.6.
        landmark_smoothing (float): Video in the wild: weight of the past
            of each face's box and landmarks (see :class:`FaceTracker`).
            Default: 0.5.
        max_frames (int, optional): Stop a video or webcam after this many
            frames. Default: None (all).

    Returns:
        ParseSummary: What was written and what failed.

    Raises:
        ParseInputError: Malformed boxes, unknown mask classes or an opacity
            outside ``(0, 1]``.
        OutputWriteError: An output folder cannot be created or written, or
            a write fails (a full disk): the run stops, and every output of
            an image is written all or none.
        VideoReadError: If a video or webcam cannot be opened (nothing is
            written then).
    """
    is_webcam = isinstance(source, int)
    if not is_webcam:
        source = Path(source)
        if not source.exists():
            raise FileNotFoundError(f'input {source} does not exist')
    try:
        resolve_class_ids(parser.classes, masks)
    except ValueError as error:
        raise ParseInputError(f'masks: {error}') from error
    if boxes is not None:
        boxes = check_boxes(boxes)
    if not 0 < opacity <= 1:
        raise ParseInputError(f'opacity must be in (0, 1], got {opacity}')
    summary = ParseSummary(in_the_wild=detect_faces or boxes is not None)
    # Opened first: a video that cannot be opened leaves no output folder.
    video_source = VideoSource(source) \
        if is_webcam or _is_video(source) else None
    _make_out_dirs(out_dir, masks)
    video = None
    if video_source is not None:
        items = video_source.frames(summary, max_frames)
        total = video_source.frame_count
        if max_frames is not None:
            total = min(total, max_frames) if total else max_frames
        video = _VideoOutput(
            AtomicVideoWriter(
                osp.join(out_dir, f'{video_source.stem}_overlay.mp4'),
                video_source.fps),
            VideoFaceParser(parser, prob_smoothing, landmark_smoothing)
            if summary.in_the_wild else None)
    else:
        paths = _folder_images(source, summary) if source.is_dir() else \
            [source]
        items = _iter_images(paths, summary)
        total = len(paths)
    progress = mmcv.ProgressBar(total) if show_progress else None

    def advance(count=1):
        # Progress counts inputs once their results are written (or failed).
        for _ in range(count if progress is not None else 0):
            progress.update()

    started = time.perf_counter()
    batch = []
    try:
        for name, key, img in items:
            if img is not None and boxes is not None:
                if key not in boxes and not detect_faces:
                    summary.failed.append((key, 'no entry in the boxes file'))
                    img = None
                elif key in boxes:
                    outside = _box_outside(boxes[key], img.shape[:2])
                    if outside is not None:
                        summary.failed.append((key, outside))
                        img = None
            if img is None:
                advance()
                continue
            batch.append((name, key, img))
            if len(batch) == parser.batch_size:
                _parse_batch(parser, batch, out_dir, masks, boxes, opacity,
                             summary, video)
                advance(len(batch))
                batch = []
        if batch:
            _parse_batch(parser, batch, out_dir, masks, boxes, opacity,
                         summary, video)
            advance(len(batch))
    except BaseException as error:
        # Ctrl-C is how a webcam run ends; the frames so far stay valid.
        if not (is_webcam and isinstance(error, KeyboardInterrupt)):
            if video is not None:
                video.writer.discard()
            raise
    summary.seconds = time.perf_counter() - started
    if video is not None:
        summary.video = video.writer.finish()
    if progress is not None:
        # ProgressBar leaves the cursor at the end of its line.
        progress.file.write('\n')
    return summary


@dataclass
class _VideoOutput:
    """Per-run state of a video input: the overlay video being written and,
    in the wild, the tracker."""
    writer: AtomicVideoWriter
    tracker: VideoFaceParser = None

    def label_faces(self, images, given):
        """Like :meth:`FaceParser.parse_wild` on consecutive frames."""
        frames = [
            self.tracker.parse_frame(img, faces)
            for img, faces in zip(images, given or [None] * len(images))
        ]
        return [frame.labels for frame in frames], \
            [frame.faces for frame in frames]


def _check_box(box):
    """A :class:`Face` from one ``[x1, y1, x2, y2]`` entry (or a Face,
    kept with its eyes), or ValueError."""
    face = box if isinstance(box, Face) else None
    if face is not None:
        box = face.box
    if isinstance(box, (str, bytes)) or not hasattr(box, '__len__') or \
            len(box) != 4 or not all(
                isinstance(v, Real) and not isinstance(v, bool) for v in box):
        raise ValueError(f'a box is [x1, y1, x2, y2], four numbers, got '
                         f'{box!r}')
    if not all(math.isfinite(v) for v in box):
        raise ValueError(f'box {list(box)} has a non-finite coordinate')
    return face or as_face(box)


def check_boxes(boxes):
    """Validate a boxes mapping before any work, naming the bad entry.

    Args:
        boxes (dict): ``{key: [[x1, y1, x2, y2], ...]}`` (or :class:`Face`
            objects), as :func:`parse_to_dir` takes them.

    Returns:
        dict[str, list[Face]]: The same boxes as faces.

    Raises:
        ParseInputError: If the mapping, a list or a box is malformed: not
            four finite numbers, or ``x2 <= x1`` or ``y2 <= y1``.
    """
    if not isinstance(boxes, dict):
        raise ParseInputError(f'boxes must map file names to lists of boxes, '
                              f'got {type(boxes).__name__}')
    checked = {}
    for key, image_boxes in boxes.items():
        if not isinstance(image_boxes, (list, tuple)):
            raise ParseInputError(f'boxes of {key!r} must be a list of boxes, '
                                  f'got {image_boxes!r}')
        checked[key] = []
        for index, box in enumerate(image_boxes):
            try:
                checked[key].append(_check_box(box))
            except (TypeError, ValueError) as error:
                raise ParseInputError(
                    f'box {index} of {key!r}: {error}') from error
    return checked


def load_boxes(path):
    """Read and validate a ``--boxes`` JSON file (see :func:`check_boxes`).

    Raises:
        ParseInputError: Naming the file, if it is not UTF-8 JSON or its
            boxes are malformed.
    """
    try:
        with open(path, encoding='utf-8') as f:
            boxes = json.load(f)
    except UnicodeDecodeError as error:
        raise ParseInputError(f'{path}: not UTF-8 text (byte {error.start}: '
                              f'{error.reason})') from error
    except json.JSONDecodeError as error:
        raise ParseInputError(f'{path}: not valid JSON ({error})') from error
    try:
        return check_boxes(boxes)
    except ParseInputError as error:
        raise ParseInputError(f'{path}: {error}') from error


def _box_outside(faces, image_hw):
    """Why a face of ``faces`` cannot be in the image, else None."""
    height, width = image_hw
    for face in faces:
        x1, y1, x2, y2 = face.box
        if x2 <= 0 or y2 <= 0 or x1 >= width or y1 >= height:
            return (f'face box {[x1, y1, x2, y2]} lies entirely outside the '
                    f'{width}x{height} image (boxes are x1, y1, x2, y2 in '
                    f'pixels)')
    return None


def _is_out_of_memory(error):
    # torch reports a failed CPU allocation as a RuntimeError.
    return isinstance(error, (MemoryError, torch.OutOfMemoryError)) or (
        isinstance(error, RuntimeError)
        and "can't allocate memory" in str(error))


def _parse_batch(parser, batch, out_dir, masks, boxes, opacity, summary,
                 video=None):
    """Parse and write a batch; an image that runs out of memory is retried
    alone, then recorded as failed, so that it does not end the run.

    Video frames in the wild go through ``video``'s tracker in order; they
    are not retried (the tracker has seen them), only recorded as failed.
    """
    names = [name for name, _, _ in batch]
    images = [img for _, _, img in batch]
    try:
        if summary.in_the_wild:
            given = [boxes.get(key) for _, key, _ in batch] if boxes else None
            if video is not None and video.tracker is not None:
                labels, faces = video.label_faces(images, given)
            else:
                labels, faces = parser.parse_wild(images, faces=given)
        else:
            labels, faces = parser.parse(images), None
    except Exception as error:  # noqa: B902 (only memory errors handled)
        if not _is_out_of_memory(error):
            raise
        if len(batch) > 1 and video is None:
            for item in batch:
                _parse_batch(parser, [item], out_dir, masks, boxes, opacity,
                             summary)
            return
        for _, key, img in batch:
            height, width = img.shape[:2]
            summary.failed.append(
                (key, f'out of memory parsing this {width}x{height} image'))
        return
    for index, (name, img, label) in enumerate(zip(names, images, labels)):
        overlay = render_overlay(img, label, parser.palette, opacity)
        files = [
            _encode_png(osp.join(out_dir, 'labels', f'{name}.png'), label),
            _encode_png(osp.join(out_dir, 'overlays', f'{name}.png'),
                        overlay)
        ]
        files += [
            _encode_png(osp.join(out_dir, 'masks', class_name,
                                 f'{name}.png'), mask)
            for class_name, mask in class_masks(label, parser.classes,
                                                masks).items()
        ]
        try:
            write_files_atomically(files)
        except OSError as error:
            raise OutputWriteError(
                f'cannot write {error.filename}: {error.strerror or error} '
                f'(nothing of {name} written; {len(summary.written)} '
                f'image(s) written before)') from error
        if video is not None:
            video.writer.write(overlay)
        summary.written.append(name)
        if faces is not None:
            summary.num_faces += len(faces[index])
            if not faces[index]:
                summary.without_faces.append(name)
