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
import os.path as osp
import time
from dataclasses import dataclass, field
from pathlib import Path

import mmcv

from .face_detection import as_face
from .face_parser import ImageReadError, load_bgr_image
from .face_tracking import VideoFaceParser
from .video_io import AtomicVideoWriter, VideoSource
from .visualization import class_masks, render_overlay, resolve_class_ids

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v')


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


def _write(path, img):
    if not mmcv.imwrite(img, path):
        raise OSError(f'cannot write {path}')


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

    Unreadable inputs (and video frames that fail to decode) are skipped and
    recorded in the summary, as is a video that ends before the frame count
    of its header.

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
        VideoReadError: If a video or webcam cannot be opened (nothing is
            written then).
    """
    is_webcam = isinstance(source, int)
    if not is_webcam:
        source = Path(source)
        if not source.exists():
            raise FileNotFoundError(f'input {source} does not exist')
    resolve_class_ids(parser.classes, masks)
    if boxes is not None:
        boxes = _check_boxes(boxes)
    summary = ParseSummary(in_the_wild=detect_faces or boxes is not None)
    video = None
    if is_webcam or _is_video(source):
        video_source = VideoSource(source)
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
            if img is not None and boxes is not None and not detect_faces \
                    and key not in boxes:
                summary.failed.append((key, 'no entry in the boxes file'))
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


def _check_boxes(boxes):
    """Validate a boxes mapping early, naming the bad entry."""
    if not isinstance(boxes, dict):
        raise TypeError(f'boxes must map file names to lists of boxes, got '
                        f'{type(boxes).__name__}')
    checked = {}
    for key, image_boxes in boxes.items():
        try:
            checked[key] = [as_face(box) for box in image_boxes]
        except (TypeError, ValueError) as error:
            raise ValueError(f'bad boxes for {key!r}: {error}') from error
    return checked


def _parse_batch(parser, batch, out_dir, masks, boxes, opacity, summary,
                 video=None):
    names = [name for name, _, _ in batch]
    images = [img for _, _, img in batch]
    if summary.in_the_wild:
        given = [boxes.get(key) for _, key, _ in batch] if boxes else None
        if video is not None:
            labels, faces = video.label_faces(images, given)
        else:
            labels, faces = parser.parse_wild(images, faces=given)
        for name, image_faces in zip(names, faces):
            summary.num_faces += len(image_faces)
            if not image_faces:
                summary.without_faces.append(name)
    else:
        labels = parser.parse(images)
    for name, img, label in zip(names, images, labels):
        _write(osp.join(out_dir, 'labels', f'{name}.png'), label)
        overlay = render_overlay(img, label, parser.palette, opacity)
        _write(osp.join(out_dir, 'overlays', f'{name}.png'), overlay)
        if video is not None:
            video.writer.write(overlay)
        for class_name, mask in class_masks(label, parser.classes,
                                            masks).items():
            _write(osp.join(out_dir, 'masks', class_name, f'{name}.png'),
                   mask)
        summary.written.append(name)
