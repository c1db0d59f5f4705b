"""LaPa release -> ``{images,labels}`` + split files, checking every pair.

Release layout read here::

    {train,val,test}/images/<name>.jpg
    {train,val,test}/labels/<name>.png        class ids 0..10
    {train,val,test}/landmarks/<name>.txt     106 points (not needed here)
"""
import glob
import os.path as osp
from functools import partial

from ..lapa import ELEVEN_CLASSES
from .common import (SPLITS, ConversionError, ConversionSummary, ItemResult,
                     check_copy, check_label_values, check_same_size,
                     check_single_channel, check_unique, convert_item,
                     decode_image, read_bytes, run_items, write_splits)
from .output_folder import claim_dataset_output

NUM_CLASSES = len(ELEVEN_CLASSES)


def _names(folder, suffix):
    return sorted(
        osp.basename(path)[:-len(suffix)]
        for path in glob.glob(osp.join(folder, f'*{suffix}')))


def _source_paths(root, split, name):
    return (osp.join(root, split, 'images', f'{name}.jpg'),
            osp.join(root, split, 'labels', f'{name}.png'))


def _build_item(root, split, name):
    image_path, label_path = _source_paths(root, split, name)
    image_bytes = read_bytes(image_path, 'image')
    label_bytes = read_bytes(label_path, 'label')
    image = decode_image(image_bytes, image_path)
    label = decode_image(label_bytes, label_path)
    check_single_channel(label, label_path, 'label')
    check_same_size(image, label, image_path, label_path)
    check_label_values(label, NUM_CLASSES, label_path)
    # Both files are valid as released: copy the bytes, no re-encoding.
    return image_bytes, label_bytes


def _check_item(root, split, name, image_path, label_path):
    # Outputs are copies, so comparing bytes is exact and needs no decoding.
    for path, source in zip((image_path, label_path),
                            _source_paths(root, split, name)):
        check_copy(path, source)


def _convert_one(task):
    root, out_dir, split, name = task
    return convert_item(name, out_dir,
                        partial(_build_item, root, split, name),
                        partial(_check_item, root, split, name))


def convert_lapa(root, out_dir, nproc=1, overwrite=False):
    """Check and copy a LaPa release into the layout of the datasets.

    Args:
        root (str): The ``LaPa`` folder with ``train``, ``val``, ``test``.
        out_dir (str): Output root.
        nproc (int): Worker processes. Default: 1.
        overwrite (bool): Replace an earlier conversion in ``out_dir``
            instead of refusing when it differs. Default: False.

    Returns:
        ConversionSummary: Written, redone, skipped and rejected items (a
        label without an image is rejected too) and split sizes (18,176 /
        2,000 / 2,000 on the full release).

    Raises:
        ConversionError: If a split's ``images`` folder is missing, a name
            occurs in two splits, or ``out_dir`` is unusable (see
            :func:`claim_output`).
    """
    split_names = {}
    orphan_labels = []
    for split in SPLITS:
        image_dir = osp.join(root, split, 'images')
        if not osp.isdir(image_dir):
            raise ConversionError(f'{image_dir}: missing LaPa image folder')
        split_names[split] = _names(image_dir, '.jpg')
        label_names = _names(osp.join(root, split, 'labels'), '.png')
        orphan_labels += [
            ItemResult(
                name, 'rejected',
                f'{osp.join(root, split, "labels", name + ".png")}: label '
                'without an image') for name in sorted(
                    set(label_names) - set(split_names[split]))
        ]
    check_unique([n for names in split_names.values() for n in names],
                 f'{root} (names across splits)')
    tasks = [(root, out_dir, split, name)
             for split, names in split_names.items() for name in names]
    with claim_dataset_output(out_dir, 'lapa', {}, root,
                              overwrite) as removed:
        summary = ConversionSummary.from_results(
            run_items(_convert_one, tasks, nproc) + orphan_labels)
        summary.removed = removed
        write_splits(out_dir, split_names, summary)
    return summary
