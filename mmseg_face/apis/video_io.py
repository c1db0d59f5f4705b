"""Video input and output for :func:`parse_to_dir`: frames of a file or a
webcam with decode failures and truncation reported, and an overlay video
that appears whole or not at all."""
import contextlib
import os
import os.path as osp
import sys

import cv2

# Frame rate of the overlay video when the input does not report one.
DEFAULT_FPS = 25.0
# Frames in a row that may fail to decode before a video counts as ended.
MAX_SKIPPED_FRAMES = 10


class VideoReadError(ValueError):
    """A video file or webcam could not be opened."""


@contextlib.contextmanager
def _native_stderr_silenced():
    """Mute the C-level stderr around an OpenCV video call.

    OpenCV and FFmpeg print their own lines there (a failed open prints
    several, a damaged frame one or more); the one error this module reports
    says it instead.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, 'w') as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class VideoSource:
    """Frames of a video file or a webcam.

    Args:
        source (Path | int): Video file, or webcam index.

    Raises:
        VideoReadError: If it cannot be opened.
    """

    def __init__(self, source):
        self.source = source
        self.is_webcam = isinstance(source, int)
        self.stem = f'webcam{source}' if self.is_webcam else source.stem
        self.label = f'webcam {source}' if self.is_webcam else str(source)
        with _native_stderr_silenced():
            self.capture = cv2.VideoCapture(
                source if self.is_webcam else str(source))
            opened = self.capture.isOpened()
        if not opened:
            self.capture.release()
            raise VideoReadError(
                f'cannot open webcam {source} (no camera with that index?)'
                if self.is_webcam else
                f'{source}: cannot open video (not a video file, or a codec '
                f'OpenCV lacks)')
        # A webcam's count is 0 or -1 (endless); a file's comes from its
        # header, which a truncated file still has whole.
        self.frame_count = max(
            int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        self.fps = self.capture.get(cv2.CAP_PROP_FPS) or DEFAULT_FPS

    def frames(self, summary, max_frames=None):
        """Yield ``(name, key, frame)`` in order.

        A frame that fails to decode goes to ``summary.failed`` with a None
        frame, and reading goes on. Failures up to the end of a file (more
        than ``MAX_SKIPPED_FRAMES`` in a row, or up to its header's frame
        count) are a truncated or damaged file instead: one entry saying how
        many frames were decoded.
        """
        index = decoded = skipped = 0
        unreadable = []  # failed frames since the last good one
        try:
            while max_frames is None or index < max_frames:
                with _native_stderr_silenced():
                    grabbed = self.capture.grab()
                    ok, frame = self.capture.retrieve() if grabbed else \
                        (False, None)
                name = f'{self.stem}_{index:06d}'
                index += 1
                if not (ok and frame is not None):
                    if self.is_webcam or index > self.frame_count or \
                            len(unreadable) == MAX_SKIPPED_FRAMES:
                        break
                    unreadable.append(name)
                    continue
                for failed in unreadable:
                    summary.failed.append((failed, 'frame cannot be decoded'))
                    yield failed, failed, None
                skipped += len(unreadable)
                unreadable = []
                decoded += 1
                yield name, name, frame
        finally:
            self.capture.release()
        if decoded == 0:
            summary.failed.append((self.label, 'video has no readable frame'))
        elif not self.is_webcam and max_frames is None \
                and decoded + skipped < self.frame_count:
            summary.failed.append(
                (self.label, f'decoded {decoded} of {self.frame_count} '
                 f'frames (the file is truncated or damaged)'))


def _partial_name(path):
    """Where ``path`` is written before it is renamed into place."""
    return osp.join(osp.dirname(path), '.partial.' + osp.basename(path))


class AtomicVideoWriter:
    """An mp4 video written under a temporary name, renamed by :meth:`finish`.

    Args:
        path (str): The final file.
        fps (float): Frame rate.
    """

    def __init__(self, path, fps):
        self.path = path
        self.fps = fps
        self.writer = None

    def write(self, img):
        if self.writer is None:
            os.makedirs(osp.dirname(self.path) or '.', exist_ok=True)
            self.writer = cv2.VideoWriter(_partial_name(self.path),
                                          cv2.VideoWriter_fourcc(*'mp4v'),
                                          self.fps,
                                          (img.shape[1], img.shape[0]))
            if not self.writer.isOpened():
                raise OSError(f'cannot write the video {self.path}')
        self.writer.write(img)

    def finish(self):
        """Close and rename; returns the path, or None if no frame came."""
        if self.writer is None:
            return None
        self.writer.release()
        os.replace(_partial_name(self.path), self.path)
        return self.path

    def discard(self):
        """Close and delete what was written."""
        if self.writer is not None:
            self.writer.release()
            os.remove(_partial_name(self.path))
