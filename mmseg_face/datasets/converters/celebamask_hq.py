"""CelebAMask-HQ release -> ``{images,labels}/<id>.{jpg,png}`` + splits.

Release layout read here (as distributed, nothing renamed)::

    CelebA-HQ-img/{id}.jpg                             1024x1024 RGB
    CelebAMask-HQ-mask-anno/{id // 2000}/{id:05d}_{part}.png
                                                       512x512, one per part
    CelebA-HQ-to-CelebA-mapping.txt                    idx orig_idx orig_file
"""
import os.path as osp
import re
from collections import Counter
from functools import partial

import cv2
import numpy as np

from .common import (ConversionError, ConversionSummary, check_converted,
                     check_unique, convert_item, decode_image, encode_jpg,
                     encode_png, header_size, read_bytes, read_text_lines,
                     run_items, write_splits)
from .output_folder import claim_dataset_output

IMAGE_FOLDER = 'CelebA-HQ-img'
MASK_FOLDER = 'CelebAMask-HQ-mask-anno'
MAPPING_FILE = 'CelebA-HQ-to-CelebA-mapping.txt'
IMAGES_PER_MASK_FOLDER = 2000
# Official label order (the release's g_mask.py); parts are painted in this
# order, so a later part overwrites an earlier one where masks overlap.
PART_NAMES = ('skin', 'nose', 'eye_g', 'l_eye', 'r_eye', 'l_brow', 'r_brow',
              'l_ear', 'r_ear', 'mouth', 'u_lip', 'l_lip', 'hair', 'hat',
              'ear_r', 'neck_l', 'neck', 'cloth')
# Official CelebA partition as applied by the release's g_partition.py to the
# orig_idx column: < 162771 train, < 182638 val, the rest test.
CELEBA_VAL_START = 162771
CELEBA_TEST_START = 182638
# SegNeXt-FaceParser's split: ids below 28000 train, the rest val (which it
# also uses as test).
SEGNEXT_VAL_START = 28000
SPLIT_SCHEMES = ('celeba', 'segnext')


def parse_mapping(path):
    """Read ``CelebA-HQ-to-CelebA-mapping.txt``.

    Args:
        path (str): The mapping file. Its header line (``idx orig_idx
            orig_file``), which the official README says to delete, may be
            present or not.

    Returns:
        list[tuple[int, int]]: ``(idx, orig_idx)`` in file order.

    Raises:
        ConversionError: Naming the file and line for a missing file, a
            byte that is not UTF-8, a line without three columns or with
            non-integer ids, or a repeated idx.
    """
    rows = []
    for line_number, line in read_text_lines(path, 'mapping file'):
        fields = line.split()
        if not fields:
            continue
        if line_number == 1 and fields[0] == 'idx':
            continue
        if len(fields) != 3 or not all(
                re.fullmatch(r'\d+', v) for v in fields[:2]):
            raise ConversionError(
                f'{path}:{line_number}: malformed line {line.strip()!r},'
                ' expected "idx orig_idx orig_file" with integer ids')
        rows.append((int(fields[0]), int(fields[1])))
    check_unique([str(idx) for idx, _ in rows], path)
    return rows


def split_of(idx, orig_idx, scheme='celeba'):
    """Split ('train', 'val' or 'test') of CelebA-HQ image ``idx``."""
    if scheme == 'celeba':
        if orig_idx < CELEBA_VAL_START:
            return 'train'
        return 'val' if orig_idx < CELEBA_TEST_START else 'test'
    if scheme == 'segnext':
        return 'train' if idx < SEGNEXT_VAL_START else 'val'
    raise ValueError(f'split scheme {scheme!r} is not one of {SPLIT_SCHEMES}')


def _part_paths(mask_dir, idx):
    """Folder and ``{part: path}`` of the part masks image ``idx`` has.

    The release omits the files of absent parts.
    """
    folder = osp.join(mask_dir, str(idx // IMAGES_PER_MASK_FOLDER))
    if not osp.isdir(folder):
        raise ConversionError(f'{folder}: missing part folder for image {idx}')
    paths = {
        part: osp.join(folder, f'{idx:05d}_{part}.png')
        for part in PART_NAMES
    }
    paths = {part: path for part, path in paths.items() if osp.isfile(path)}
    if not paths:
        raise ConversionError(
            f'{folder}: no part mask {idx:05d}_<part>.png for image {idx}')
    return folder, paths


def merge_parts(mask_dir, idx):
    """Merge the binary part masks of image ``idx`` into one label map.

    Args:
        mask_dir (str): ``CelebAMask-HQ-mask-anno`` folder.
        idx (int): CelebA-HQ image id.

    Returns:
        np.ndarray: uint8 label map at mask resolution, ids in the official
        order (0 = background), later parts winning overlaps.

    Raises:
        ConversionError: If the part folder is missing, no part mask exists,
            a mask cannot be decoded or masks differ in size (naming the
            mask whose size differs from the others').
    """
    folder, paths = _part_paths(mask_dir, idx)
    masks = {}
    for part, path in paths.items():
        mask = decode_image(read_bytes(path, 'part mask'), path)
        # As g_mask.py: channel 0 of the cv2 read.
        masks[part] = mask[..., 0] if mask.ndim == 3 else mask
    _check_part_sizes(folder, idx, masks, paths)
    return merge_celebamask_parts(masks)


def _check_part_sizes(folder, idx, masks, paths):
    """Blame the mask whose size differs from the most common one."""
    sizes = Counter(mask.shape for mask in masks.values())
    if len(sizes) == 1:
        return
    (common, count), (_, runner_up) = sizes.most_common(2)
    if count == runner_up:
        listing = ', '.join(f'{osp.basename(paths[part])} '
                            f'{mask.shape[1]}x{mask.shape[0]}'
                            for part, mask in masks.items())
        raise ConversionError(
            f'{folder}: part masks of image {idx} differ in size: {listing}')
    part = next(part for part, mask in masks.items() if mask.shape != common)
    height, width = masks[part].shape
    raise ConversionError(
        f'{paths[part]}: size {width}x{height}, expected '
        f'{common[1]}x{common[0]} like the other {count} part masks of '
        f'image {idx}')


def merge_celebamask_parts(parts):
    """Official merge: paint parts in CelebAMask-HQ id order, later wins.

    Args:
        parts (dict[str, np.ndarray]): Part name -> mask (nonzero = part),
            all of one size; absent parts are left out.

    Returns:
        np.ndarray: uint8 label map, 0 where no part is.
    """
    label = np.zeros(next(iter(parts.values())).shape[:2], np.uint8)
    for class_id, name in enumerate(PART_NAMES, 1):
        if name in parts:
            label[parts[name] != 0] = class_id
    return label


def _build_item(root, idx, keep_image_size):
    image_path = osp.join(root, IMAGE_FOLDER, f'{idx}.jpg')
    image_bytes = read_bytes(image_path, 'image')
    image = decode_image(image_bytes, image_path)
    if image.ndim != 3:
        raise ConversionError(f'{image_path}: not a colour image')
    label = merge_parts(osp.join(root, MASK_FOLDER), idx)
    label_height, label_width = label.shape
    height, width = image.shape[:2]
    if height * label_width != width * label_height:
        raise ConversionError(
            f'{image_path}: aspect of {width}x{height} differs from its '
            f'{label_width}x{label_height} part masks')
    if not keep_image_size and (height, width) != label.shape:
        # Stock mmseg evaluates at the image size, so the image goes to the
        # label size (the masks are the annotation's native resolution).
        image = cv2.resize(
            image, (label_width, label_height), interpolation=cv2.INTER_AREA)
        image_bytes = encode_jpg(image)
    return image_bytes, encode_png(label)


def _check_item(root, idx, keep_image_size, image_path, label_path):
    _, paths = _part_paths(osp.join(root, MASK_FOLDER), idx)
    label_size = header_size(next(iter(paths.values())))
    image_size = header_size(osp.join(
        root, IMAGE_FOLDER, f'{idx}.jpg')) if keep_image_size else None
    check_converted(image_path, label_path,
                    len(PART_NAMES) + 1, label_size, image_size)


def _convert_one(task):
    root, out_dir, idx, keep_image_size = task
    return convert_item(
        str(idx), out_dir,
        partial(_build_item, root, idx, keep_image_size),
        partial(_check_item, root, idx, keep_image_size))


def convert_celebamask_hq(root,
                          out_dir,
                          split_scheme='celeba',
                          keep_image_size=False,
                          nproc=1,
                          overwrite=False):
    """Convert a CelebAMask-HQ release into the layout of the datasets.

    Args:
        root (str): Folder holding ``CelebA-HQ-img``,
            ``CelebAMask-HQ-mask-anno`` and the mapping file.
        out_dir (str): Output root (``images/``, ``labels/``, split files).
        split_scheme (str): 'celeba' (official CelebA partition through the
            mapping file: 24,183 / 2,993 / 2,824 on the full release) or
            'segnext' (ids < 28,000 train, the rest val; ``test.txt`` repeats
            val as SegNeXt-FaceParser does). Default: 'celeba'.
        keep_image_size (bool): Keep the 1024 images instead of resizing
            them to the 512 labels. Default: False.
        nproc (int): Worker processes. Default: 1.
        overwrite (bool): Replace an earlier conversion in ``out_dir``
            instead of refusing when it differs. Default: False.

    Returns:
        ConversionSummary: Written, redone, skipped and rejected items,
        split sizes.

    Raises:
        ConversionError: If the mapping file is missing or malformed, or
            ``out_dir`` is unusable (see :func:`claim_output`).
    """
    if split_scheme not in SPLIT_SCHEMES:
        raise ValueError(
            f'split scheme {split_scheme!r} is not one of {SPLIT_SCHEMES}')
    rows = parse_mapping(osp.join(root, MAPPING_FILE))
    tasks = [(root, out_dir, idx, keep_image_size) for idx, _ in rows]
    split_names = {'train': [], 'val': [], 'test': []}
    for idx, orig_idx in sorted(rows):
        split_names[split_of(idx, orig_idx, split_scheme)].append(str(idx))
    if split_scheme == 'segnext':
        split_names['test'] = list(split_names['val'])
    options = dict(split_scheme=split_scheme, keep_image_size=keep_image_size)
    with claim_dataset_output(out_dir, 'celebamask_hq', options, root,
                              overwrite) as removed:
        summary = ConversionSummary.from_results(
            run_items(_convert_one, tasks, nproc))
        summary.removed = removed
        write_splits(out_dir, split_names, summary)
    return summary
