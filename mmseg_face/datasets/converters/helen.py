"""Helen (Smith et al. 2013) release -> ``{images,labels}`` + splits.

Release layout read here (``SmithCVPR2013_dataset_resized``)::

    images/<name>.jpg
    labels/<name>/<name>_lbl00.png ... <name>_lbl10.png   soft masks
    exemplars.txt  tuning.txt  testing.txt                "idx , name" lines
"""
import os.path as osp
import re
from functools import partial

import numpy as np

from ..lapa import ELEVEN_CLASSES
from .common import (ConversionError, ConversionSummary, check_converted,
                     check_copy, check_same_size, check_single_channel,
                     check_unique, convert_item, decode_image, encode_png,
                     header_size, read_bytes, read_text_lines, run_items,
                     write_splits)
from .output_folder import claim_dataset_output

NUM_CLASSES = len(ELEVEN_CLASSES)
SPLIT_FILES = (('train', 'exemplars.txt'), ('val', 'tuning.txt'),
               ('test', 'testing.txt'))


def parse_split_file(path):
    """Names listed in a Helen split file (``"<idx> , <name>"`` lines).

    Raises:
        ConversionError: Naming file and line for a missing file, a byte
            that is not UTF-8 or a line that is not an integer index, a
            comma and a name.
    """
    names = []
    for line_number, line in read_text_lines(path, 'split file'):
        if not line.strip():
            continue
        match = re.fullmatch(r'\s*\d+\s*,\s*([^\s,/\\]+)\s*', line)
        if match is None:
            raise ConversionError(
                f'{path}:{line_number}: malformed line {line.strip()!r},'
                ' expected "<index> , <name>"')
        names.append(match.group(1))
    check_unique(names, path)
    return names


def soft_masks_to_label(root, name, image, image_path):
    """Argmax over the 11 soft masks ``labels/<name>/<name>_lbl??.png``.

    Raises:
        ConversionError: If a mask is missing or undecodable, is not
            single-channel, or its size differs from the image.
    """
    masks = []
    for class_id in range(NUM_CLASSES):
        path = osp.join(root, 'labels', name, f'{name}_lbl{class_id:02d}.png')
        mask = decode_image(read_bytes(path, 'soft mask'), path)
        check_single_channel(mask, path, 'soft mask')
        check_same_size(image, mask, image_path, path)
        masks.append(mask)
    return np.argmax(np.stack(masks), axis=0).astype(np.uint8)


def _source_image(root, name):
    return osp.join(root, 'images', f'{name}.jpg')


def _build_item(root, name):
    image_path = _source_image(root, name)
    image_bytes = read_bytes(image_path, 'image')
    image = decode_image(image_bytes, image_path)
    label = soft_masks_to_label(root, name, image, image_path)
    return image_bytes, encode_png(label)


def _check_item(root, name, image_path, label_path):
    source = _source_image(root, name)
    check_copy(image_path, source)
    check_converted(None, label_path, NUM_CLASSES, header_size(source))


def _convert_one(task):
    root, out_dir, name = task
    return convert_item(name, out_dir, partial(_build_item, root, name),
                        partial(_check_item, root, name))


def convert_helen(root, out_dir, nproc=1, overwrite=False):
    """Convert the Helen release into the layout of the datasets.

    Args:
        root (str): The ``SmithCVPR2013_dataset_resized`` folder.
        out_dir (str): Output root.
        nproc (int): Worker processes. Default: 1.
        overwrite (bool): Replace an earlier conversion in ``out_dir``
            instead of refusing when it differs. Default: False.

    Returns:
        ConversionSummary: Written, redone, skipped and rejected items and
        split sizes (2,000 / 230 / 100 on the full release).

    Raises:
        ConversionError: If a split file is missing or malformed, a name
            is in two splits, or ``out_dir`` is unusable (see
            :func:`claim_output`).
    """
    split_names = {
        split: parse_split_file(osp.join(root, file_name))
        for split, file_name in SPLIT_FILES
    }
    all_names = [name for names in split_names.values() for name in names]
    check_unique(all_names, f'{root} split files')
    tasks = [(root, out_dir, name) for name in all_names]
    with claim_dataset_output(out_dir, 'helen', {}, root,
                              overwrite) as removed:
        summary = ConversionSummary.from_results(
            run_items(_convert_one, tasks, nproc))
        summary.removed = removed
        write_splits(out_dir, split_names, summary)
    return summary
