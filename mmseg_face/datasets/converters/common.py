"""Pieces shared by the dataset converters.

Every converter turns one item (an image and its annotation) into
``out_dir/images/<name>.jpg`` + ``out_dir/labels/<name>.png`` in a worker
function that returns an :class:`ItemResult`, runs the workers in parallel
with a progress bar, and writes the split files last. Outputs appear
atomically (temporary file + ``os.replace``), so a killed run leaves either
a complete file or a temporary one, which the next run deletes (see
``output_folder``). A resumed run checks each finished item before it skips
it and redoes the item when its outputs are damaged.
"""
import contextlib
import filecmp
import io
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import List, NamedTuple

import cv2
import mmcv
import numpy as np
from PIL import Image

IMAGE_DIR = 'images'
LABEL_DIR = 'labels'
SPLITS = ('train', 'val', 'test')
TEMP_MARK = '.partial-'
# Every complete PNG ends with this empty IEND chunk. Pillow decodes a PNG
# that lacks it (and the checksums before it) without complaint.
PNG_END = b'\x00\x00\x00\x00IEND\xaeB`\x82'


class ConversionError(Exception):
    """Bad input or an unusable output folder: the message names the file
    or folder and says what is wrong."""


class ItemResult(NamedTuple):
    """Outcome of one item: 'written', 'redone', 'skipped' or 'rejected'.

    'redone' is an item whose earlier outputs failed the resume check;
    ``reason`` says why (or why the item was rejected).
    """
    name: str
    status: str
    reason: str = ''


@dataclass
class ConversionSummary:
    """What a converter run did, item by item."""
    written: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    redone: List[ItemResult] = field(default_factory=list)
    rejected: List[ItemResult] = field(default_factory=list)
    split_sizes: dict = field(default_factory=dict)
    removed: int = 0  # files of an earlier conversion deleted (overwrite)

    @classmethod
    def from_results(cls, results):
        summary = cls()
        for result in results:
            if result.status == 'written':
                summary.written.append(result.name)
            elif result.status == 'skipped':
                summary.skipped.append(result.name)
            elif result.status == 'redone':
                summary.redone.append(result)
            else:
                summary.rejected.append(result)
        return summary

    def format(self):
        """Multi-line report, one line per redone or rejected item."""
        lines = [
            f'written: {len(self.written)}, skipped (already done): '
            f'{len(self.skipped)}, rejected: {len(self.rejected)}, redone '
            f'(damaged output of an earlier run): {len(self.redone)}'
        ]
        if self.removed:
            lines.append(f'--overwrite removed {self.removed} files of the '
                         'earlier conversion')
        if self.split_sizes:
            lines.append('splits: ' + ', '.join(
                f'{split} {size}' for split, size in self.split_sizes.items()))
        lines += [f'redone {item.name}: {item.reason}' for item in self.redone]
        lines += [
            f'rejected {item.name}: {item.reason}' for item in self.rejected
        ]
        return '\n'.join(lines)


def output_paths(out_dir, name):
    return (osp.join(out_dir, IMAGE_DIR, f'{name}.jpg'),
            osp.join(out_dir, LABEL_DIR, f'{name}.png'))


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` through a temporary file and a rename.

    The temporary file is named after this process, so only this process
    writes or deletes it.

    Raises:
        ConversionError: Naming ``path`` when the write fails (full disk,
            no permission); the temporary file is removed and ``path`` is
            left as it was.
    """
    directory, base = osp.split(path)
    temp_path = osp.join(directory, f'.{base}{TEMP_MARK}{os.getpid()}')
    try:
        with open(temp_path, 'wb') as f:
            f.write(data)
        os.replace(temp_path, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.remove(temp_path)
        raise ConversionError(
            f'{path}: cannot write ({error.strerror or error})') from None


def encode_png(label):
    ok, buffer = cv2.imencode('.png', label)
    if not ok:
        raise RuntimeError('PNG encoding failed')
    return buffer.tobytes()


def encode_jpg(image_bgr, quality=95):
    ok, buffer = cv2.imencode('.jpg', image_bgr,
                              [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError('JPEG encoding failed')
    return buffer.tobytes()


def read_text_lines(path, what):
    """The lines of a UTF-8 text file, numbered from 1.

    Raises:
        ConversionError: Naming the file, or the file and line of the first
            byte that is not UTF-8.
    """
    lines = []
    for line_number, raw in enumerate(read_bytes(path, what).splitlines(), 1):
        try:
            lines.append((line_number, raw.decode('utf-8')))
        except UnicodeDecodeError as error:
            raise ConversionError(
                f'{path}:{line_number}: byte 0x{raw[error.start]:02x} at '
                f'column {error.start + 1} is not UTF-8 text') from None
    return lines


def read_bytes(path, what):
    if not osp.isfile(path):
        raise ConversionError(f'{path}: missing {what}')
    with open(path, 'rb') as f:
        return f.read()


def decode_image(data, path):
    """Fully decode an encoded image to a BGR or grayscale array.

    PIL raises on truncated files where OpenCV would only warn and return
    a partly grey image, so corrupt JPEGs are caught here; a PNG must also
    end in its IEND chunk and pass Pillow's checksum verification.

    Raises:
        ConversionError: naming ``path`` when the data cannot be decoded.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format == 'PNG':
                _verify_png(data)
            image.load()
            if image.mode in ('L', 'P'):
                # Raw values: a palette PNG label stores class ids.
                return np.asarray(image)
            if image.mode == '1':
                return np.asarray(image.convert('L'))
            if image.mode in ('I;16', 'I'):
                raise ConversionError(
                    f'{path}: 16/32-bit image, expected 8-bit')
            return np.ascontiguousarray(
                np.asarray(image.convert('RGB'))[..., ::-1])
    except Image.DecompressionBombError as error:
        raise ConversionError(
            f'{path}: too large to decode safely ({error})') from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ConversionError(
            f'{path}: cannot decode image ({error})') from None


def _verify_png(data):
    if data.rfind(PNG_END) < 0:  # data after IEND is ignored, not an error
        raise OSError('truncated PNG: no IEND chunk at the end')
    with Image.open(io.BytesIO(data)) as image:
        image.verify()


def header_size(path):
    """(height, width) from an image's header, without decoding it."""
    try:
        with Image.open(path) as image:
            return image.height, image.width
    except (OSError, SyntaxError, ValueError,
            Image.DecompressionBombError) as error:
        raise ConversionError(f'{path}: cannot read image ({error})') from None


def check_copy(path, source):
    """Raise unless ``path`` holds exactly the bytes of ``source``."""
    if not filecmp.cmp(path, source, shallow=False):
        raise ConversionError(f'{path}: differs from its source {source}')


def check_converted(image_path, label_path, num_classes, label_size,
                    image_size=None):
    """Raise unless a finished item's outputs decode fully and fit.

    Args:
        image_path (str): The converted image, or None to leave it out
            (checked otherwise, e.g. with :func:`check_copy`).
        label_path (str): The converted label map.
        num_classes (int): Label values must be below it (or 255).
        label_size (tuple[int, int]): Expected (height, width) of the label.
        image_size (tuple[int, int], optional): Expected size of the image.
            Default: ``label_size``.
    """
    label = decode_image(read_bytes(label_path, 'label'), label_path)
    check_single_channel(label, label_path, 'label')
    check_label_values(label, num_classes, label_path)
    checks = [(label_path, label, label_size)]
    if image_path is not None:
        image = decode_image(read_bytes(image_path, 'image'), image_path)
        if image.ndim != 3:
            raise ConversionError(f'{image_path}: not a colour image')
        checks.append((image_path, image, image_size or label_size))
    for path, array, (height, width) in checks:
        if array.shape[:2] != (height, width):
            raise ConversionError(
                f'{path}: size {array.shape[1]}x{array.shape[0]}, expected '
                f'{width}x{height}')


def check_label_values(label, num_classes, path, ignore_index=255):
    """Raise unless every value is a class id or ``ignore_index``."""
    values = np.unique(label)
    bad = values[(values >= num_classes) & (values != ignore_index)]
    if bad.size:
        raise ConversionError(
            f'{path}: label values {bad.tolist()} outside 0..{num_classes - 1}'
            f' (and not the ignore value {ignore_index})')


def check_single_channel(array, path, what):
    if array.ndim != 2:
        raise ConversionError(f'{path}: {what} is not single-channel')


def check_same_size(first, second, first_path, second_path):
    if first.shape[:2] != second.shape[:2]:
        raise ConversionError(
            f'{second_path}: size {second.shape[1]}x{second.shape[0]} differs '
            f'from {first.shape[1]}x{first.shape[0]} of {first_path}')


def run_items(worker, tasks, nproc):
    """Run ``worker`` on every task with a progress bar.

    Args:
        worker (callable): Top-level function ``task -> ItemResult``.
        tasks (list): Its arguments, one per item.
        nproc (int): Worker processes; 1 runs in this process.

    Returns:
        list[ItemResult]: In task order.
    """
    if not tasks:
        return []
    if nproc > 1:
        return mmcv.track_parallel_progress(worker, tasks, nproc)
    return mmcv.track_progress(worker, tasks)


def convert_item(name, out_dir, build, check):
    """Shared body of the per-item workers.

    Args:
        name (str): Output basename.
        out_dir (str): Output root.
        build (callable): ``() -> (jpg_bytes, png_bytes)``; raises
            :class:`ConversionError` on bad input.
        check (callable): ``(image_path, label_path) -> None``; raises
            :class:`ConversionError` when finished outputs are not what
            ``build`` would write (see :func:`check_converted`).

    Returns:
        ItemResult: skipped when both outputs exist and pass ``check``,
        rejected (with the reason) on bad input, redone (with the check's
        reason) when they failed it, written otherwise.
    """
    image_path, label_path = output_paths(out_dir, name)
    redo_reason = ''
    if osp.isfile(image_path) and osp.isfile(label_path):
        try:
            check(image_path, label_path)
            return ItemResult(name, 'skipped')
        except ConversionError as error:
            redo_reason = str(error)
    try:
        image_bytes, label_bytes = build()
    except ConversionError as error:
        return ItemResult(name, 'rejected', str(error))
    atomic_write_bytes(label_path, label_bytes)
    atomic_write_bytes(image_path, image_bytes)
    if redo_reason:
        return ItemResult(name, 'redone', redo_reason)
    return ItemResult(name, 'written')


def write_splits(out_dir, split_names, summary):
    """Write ``<split>.txt`` for every split, listing converted items only.

    Args:
        out_dir (str): Output root.
        split_names (dict[str, list[str]]): Split -> names in order.
        summary (ConversionSummary): Rejected names are left out; the split
            sizes are recorded in it.
    """
    rejected = {item.name for item in summary.rejected}
    for split, names in split_names.items():
        kept = [name for name in names if name not in rejected]
        text = ''.join(f'{name}\n' for name in kept)
        atomic_write_bytes(osp.join(out_dir, f'{split}.txt'), text.encode())
        summary.split_sizes[split] = len(kept)


def check_unique(names, source):
    """Raise if a name appears twice: outputs would overwrite each other."""
    duplicates = [name for name, n in Counter(names).items() if n > 1]
    if duplicates:
        raise ConversionError(
            f'{source}: names listed more than once: {sorted(duplicates)[:5]}')
