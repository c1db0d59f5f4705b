"""CelebAMask-HQ release -> ``{images,labels}/<id>.{jpg,png}`` + splits.

Release layout read here (as distributed, nothing renamed)::

    CelebA-HQ-img/{id}.jpg                             1024x1024 RGB
    CelebAMask-HQ-mask-anno/{id // 2000}/{id:05d}_{part}.png
                                                       512x512, one per part
    CelebA-HQ-to-CelebA-mapping.txt                    idx orig_idx orig_file
"""
import os.path as osp
import re
from functools import partial

import cv2
import numpy as np

from .common import (ConversionError, ConversionSummary, check_same_size,
                     check_unique, convert_item, decode_image, encode_jpg,
                     encode_png, prepare_output, read_bytes, run_items,
                     write_splits)

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
            line without three columns or with non-integer ids, or a
            repeated idx.
    """
    if not osp.isfile(path):
        raise ConversionError(f'{path}: mapping file not found')
    rows = []
    with open(path, encoding='utf-8') as f:
        for line_number, line in enumerate(f, 1):
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
            a mask cannot be decoded or masks differ in size.
    """
    folder = osp.join(mask_dir, str(idx // IMAGES_PER_MASK_FOLDER))
    if not osp.isdir(folder):
        raise ConversionError(f'{folder}: missing part folder for image {idx}')
    masks, first, first_path = {}, None, None
    for part in PART_NAMES:
        path = osp.join(folder, f'{idx:05d}_{part}.png')
        if not osp.isfile(path):
            continue  # the release omits the files of absent parts
        mask = decode_image(read_bytes(path, 'part mask'), path)
        if mask.ndim == 3:
            mask = mask[..., 0]  # as g_mask.py: channel 0 of the cv2 read
        if first is None:
            first, first_path = mask, path
        else:
            check_same_size(first, mask, first_path, path)
        masks[part] = mask
    if not masks:
        raise ConversionError(
            f'{folder}: no part mask {idx:05d}_<part>.png for image {idx}')
    return merge_celebamask_parts(masks)


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


def _convert_one(task):
    root, out_dir, idx, keep_image_size = task
    return convert_item(
        str(idx), out_dir,
        partial(_build_item, root, idx, keep_image_size))


def convert_celebamask_hq(root,
                          out_dir,
                          split_scheme='celeba',
                          keep_image_size=False,
                          nproc=1):
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

    Returns:
        ConversionSummary: Written, skipped and rejected items, split sizes.

    Raises:
        ConversionError: If the mapping file is missing or malformed.
    """
    if split_scheme not in SPLIT_SCHEMES:
        raise ValueError(
            f'split scheme {split_scheme!r} is not one of {SPLIT_SCHEMES}')
    rows = parse_mapping(osp.join(root, MAPPING_FILE))
    prepare_output(out_dir)
    tasks = [(root, out_dir, idx, keep_image_size) for idx, _ in rows]
    summary = ConversionSummary.from_results(
        run_items(_convert_one, tasks, nproc))
    split_names = {'train': [], 'val': [], 'test': []}
    for idx, orig_idx in sorted(rows):
        split_names[split_of(idx, orig_idx, split_scheme)].append(str(idx))
    if split_scheme == 'segnext':
        split_names['test'] = list(split_names['val'])
    write_splits(out_dir, split_names, summary)
    return summary
