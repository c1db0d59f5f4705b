"""Pieces shared by the dataset converters.

Every converter turns one item (an image and its annotation) into
``out_dir/images/<name>.jpg`` + ``out_dir/labels/<name>.png`` in a worker
function that returns an :class:`ItemResult`, runs the workers in parallel
with a progress bar, and writes the split files last. Outputs appear
atomically (temporary file + ``os.replace``), so a killed run leaves either
a complete file or a temporary one, which the next run deletes before it
skips the items that are already complete.
"""
import io
import logging
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import List, NamedTuple

import cv2
import mmcv
import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

IMAGE_DIR = 'images'
LABEL_DIR = 'labels'
SPLITS = ('train', 'val', 'test')
TEMP_MARK = '.partial-'


class ConversionError(Exception):
    """Bad input, with the offending file and the reason in the message."""


class ItemResult(NamedTuple):
    """Outcome of one item: status is 'written', 'skipped' or 'rejected'."""
    name: str
    status: str
    reason: str = ''


@dataclass
class ConversionSummary:
    """What a converter run did, item by item."""
    written: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    rejected: List[ItemResult] = field(default_factory=list)
    split_sizes: dict = field(default_factory=dict)

    @classmethod
    def from_results(cls, results):
        summary = cls()
        for result in results:
            if result.status == 'written':
                summary.written.append(result.name)
            elif result.status == 'skipped':
                summary.skipped.append(result.name)
            else:
                summary.rejected.append(result)
        return summary

    def format(self):
        """Multi-line human-readable report, one line per rejected item."""
        lines = [
            f'written: {len(self.written)}, skipped (already done): '
            f'{len(self.skipped)}, rejected: {len(self.rejected)}'
        ]
        if self.split_sizes:
            lines.append('splits: ' + ', '.join(
                f'{split} {size}' for split, size in self.split_sizes.items()))
        lines += [
            f'rejected {item.name}: {item.reason}' for item in self.rejected
        ]
        return '\n'.join(lines)


def prepare_output(out_dir):
    """Create the output folders and delete temp files of a killed run."""
    for sub in (IMAGE_DIR, LABEL_DIR):
        mmcv.mkdir_or_exist(osp.join(out_dir, sub))
    for directory in (out_dir, osp.join(out_dir, IMAGE_DIR),
                      osp.join(out_dir, LABEL_DIR)):
        remove_temp_files(directory)


def remove_temp_files(directory):
    """Delete the (hidden) temp files a killed run left in ``directory``."""
    stale = [
        entry.path for entry in os.scandir(directory)
        if entry.is_file() and TEMP_MARK in entry.name
    ]
    for path in stale:
        os.remove(path)
    if stale:
        logger.info('removed %d unfinished files of an earlier run in %s',
                    len(stale), directory)


def output_paths(out_dir, name):
    return (osp.join(out_dir, IMAGE_DIR, f'{name}.jpg'),
            osp.join(out_dir, LABEL_DIR, f'{name}.png'))


def is_done(out_dir, name):
    return all(osp.isfile(path) for path in output_paths(out_dir, name))


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    directory, base = osp.split(path)
    temp_path = osp.join(directory, f'.{base}{TEMP_MARK}{os.getpid()}')
    with open(temp_path, 'wb') as f:
        f.write(data)
    os.replace(temp_path, path)


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


def read_bytes(path, what):
    if not osp.isfile(path):
        raise ConversionError(f'{path}: missing {what}')
    with open(path, 'rb') as f:
        return f.read()


def decode_image(data, path):
    """Fully decode an encoded image to a BGR or grayscale array.

    PIL raises on truncated files where OpenCV would only warn and return
    a partly grey image, so corrupt JPEGs are caught here.

    Raises:
        ConversionError: naming ``path`` when the data cannot be decoded.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
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
    except (OSError, SyntaxError, ValueError) as error:
        raise ConversionError(
            f'{path}: cannot decode image ({error})') from None


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


def convert_item(name, out_dir, build):
    """Shared body of the per-item workers.

    Args:
        name (str): Output basename.
        out_dir (str): Output root.
        build (callable): ``() -> (jpg_bytes, png_bytes)``; raises
            :class:`ConversionError` on bad input.

    Returns:
        ItemResult: skipped when both outputs exist, rejected (with the
        reason) on bad input, written otherwise.
    """
    if is_done(out_dir, name):
        return ItemResult(name, 'skipped')
    try:
        image_bytes, label_bytes = build()
    except ConversionError as error:
        return ItemResult(name, 'rejected', str(error))
    image_path, label_path = output_paths(out_dir, name)
    atomic_write_bytes(label_path, label_bytes)
    atomic_write_bytes(image_path, image_bytes)
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
