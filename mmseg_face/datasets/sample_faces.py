"""Procedurally drawn faces written in the original dataset release layouts.

No face dataset can be downloaded in tests or the demo, so this module draws
simple cartoon faces whose parts sit where real parts sit (eyes above the
nose above the mouth, the subject's left eye on the image right...) with
random pose, size, colours and noise, and writes them exactly as
CelebAMask-HQ, Helen and LaPa are released. The converters then run on them
as on the real data, and models trained on the result learn real structure
(classes at consistent positions), not noise.

Everything is deterministic for a given seed.
"""
import os.path as osp
from collections import OrderedDict

import cv2
import mmcv
import numpy as np

from .converters.celebamask_hq import (CELEBA_TEST_START, CELEBA_VAL_START,
                                       IMAGE_FOLDER, IMAGES_PER_MASK_FOLDER,
                                       MAPPING_FILE, MASK_FOLDER, PART_NAMES,
                                       convert_celebamask_hq,
                                       merge_celebamask_parts)
from .converters.common import SPLITS, encode_jpg, encode_png
from .converters.helen import SPLIT_FILES as HELEN_SPLIT_FILES
from .converters.helen import convert_helen
from .converters.lapa import NUM_CLASSES as ELEVEN_NUM_CLASSES
from .converters.lapa import convert_lapa

SAMPLE_DATASETS = ('celebamask_hq', 'helen', 'lapa')
DEFAULT_IMAGE_SIZES = dict(celebamask_hq=1024, helen=512, lapa=512)
# Split of the k-th image of a release; the first ten cover every split.
SPLIT_CYCLE = ('train', 'val', 'test', 'val', 'train', 'test', 'train',
               'train', 'train', 'train')
# CelebA ids: the first images of each split sit on the threshold values,
# so the converter's boundaries are exercised.
_BOUNDARY_ORIG_IDX = dict(
    train=[CELEBA_VAL_START - 1],
    val=[CELEBA_VAL_START, CELEBA_TEST_START - 1],
    test=[CELEBA_TEST_START])
_ORIG_IDX_RANGE = dict(
    train=(0, CELEBA_VAL_START),
    val=(CELEBA_VAL_START, CELEBA_TEST_START),
    test=(CELEBA_TEST_START, 202599))
# CelebAMask-HQ id -> Helen/LaPa id. Their "left" is the image left, which
# is CelebAMask-HQ's r_*. Classes they do not have become skin (glasses,
# ears) or background (hat, jewellery, neck, cloth).
CELEBA_TO_ELEVEN = np.array(
    [0, 1, 6, 1, 5, 4, 3, 2, 1, 1, 8, 7, 9, 10, 0, 0, 0, 0, 0] +
    [255] * 237,
    dtype=np.uint8)
ACCESSORIES = ('glasses', 'hat', 'earrings', 'necklace', 'open_mouth')

_SKIN_TONES = ((170, 195, 235), (130, 165, 215), (95, 130, 180),
               (65, 95, 135), (195, 215, 245))
_HAIR_COLOURS = ((25, 25, 30), (30, 55, 95), (45, 90, 150), (150, 175, 205),
                 (70, 70, 75), (40, 40, 120))


class _Canvas(object):
    """Draws shapes given in face coordinates onto a pose-transformed image.

    Face coordinates are fractions of the image side with the face centre
    near (0.5, 0.5); a random rotation, scale and shift maps them to pixels.
    """

    def __init__(self, size, angle, scale, shift):
        self.size = size
        cos, sin = np.cos(angle), np.sin(angle)
        self.matrix = scale * np.array([[cos, -sin], [sin, cos]])
        self.offset = np.array([0.5, 0.5]) + shift

    def to_pixels(self, points):
        points = np.asarray(points, dtype=np.float64) - 0.5
        return (points @ self.matrix.T + self.offset) * self.size

    def polygon(self, points):
        mask = np.zeros((self.size, self.size), np.uint8)
        pixels = np.round(self.to_pixels(points) * 16).astype(np.int32)
        cv2.fillPoly(mask, [pixels], 1, lineType=cv2.LINE_8, shift=4)
        return mask.astype(bool)

    def polyline(self, points, thickness):
        mask = np.zeros((self.size, self.size), np.uint8)
        pixels = np.round(self.to_pixels(points) * 16).astype(np.int32)
        width = max(1, int(round(thickness * self.size)))
        cv2.polylines(mask, [pixels], False, 1, width, cv2.LINE_8, shift=4)
        return mask.astype(bool)


def _ellipse(centre, axes, start=0.0, end=2 * np.pi, tilt=0.0, num=48,
             endpoint=True):
    angles = np.linspace(start, end, num, endpoint=endpoint)
    xs, ys = axes[0] * np.cos(angles), axes[1] * np.sin(angles)
    cos, sin = np.cos(tilt), np.sin(tilt)
    return np.stack([centre[0] + cos * xs - sin * ys,
                     centre[1] + sin * xs + cos * ys], axis=1)


def _rectangle(left, top, right, bottom):
    return [(left, top), (right, top), (right, bottom), (left, bottom)]


def draw_face(rng, size, accessories=ACCESSORIES):
    """Draw one face.

    Args:
        rng (np.random.Generator): Source of all randomness.
        size (int): Side of the square image in pixels.
        accessories (Sequence[str]): Optional parts to draw, a subset of
            ``ACCESSORIES``. Default: all of them.

    Returns:
        tuple: ``image`` (uint8 BGR, size x size x 3), ``parts`` (OrderedDict
        of the CelebAMask-HQ part name -> bool mask of what the part covers,
        overlaps included, for the parts drawn) and ``landmarks``
        ((106, 2) float pixel coordinates; :func:`five_point_landmarks`
        picks the five of face alignment).
    """
    unknown = set(accessories) - set(ACCESSORIES)
    if unknown:
        raise ValueError(f'unknown accessories {sorted(unknown)}')
    canvas = _Canvas(
        size,
        angle=np.deg2rad(rng.uniform(-12, 12)),
        scale=rng.uniform(0.85, 1.1),
        shift=rng.uniform(-0.04, 0.04, size=2))
    face_w, face_h = 0.2 * rng.uniform(0.92, 1.08), 0.26 * rng.uniform(
        0.93, 1.07)
    face_c = (0.5 + rng.uniform(-0.01, 0.01), 0.47)
    # Small yaw: inner features slide sideways together.
    yaw = rng.uniform(-0.025, 0.025)
    eye_dx = 0.085 * rng.uniform(0.9, 1.1)
    eye_y = 0.435 + rng.uniform(-0.012, 0.012)
    brow_y = eye_y - 0.06 + rng.uniform(-0.008, 0.008)
    mouth_y = 0.645 + rng.uniform(-0.015, 0.015)
    hairline = 0.3 + rng.uniform(-0.03, 0.03)

    face = _ellipse(face_c, (face_w, face_h))
    skin = canvas.polygon(face)
    parts = OrderedDict(skin=skin)
    parts['nose'] = canvas.polygon([(0.5 + yaw, eye_y + 0.01),
                                    (0.5 + yaw + 0.032, 0.555),
                                    (0.5 + yaw, 0.57),
                                    (0.5 + yaw - 0.032, 0.555)])
    # Subject's right eye/brow/ear = image left (the r_* parts).
    sides = dict(r=-1, l=1)
    if 'glasses' in accessories:
        lenses = [
            _ellipse((0.5 + yaw + s * eye_dx, eye_y + 0.004), (0.06, 0.042))
            for s in sides.values()
        ]
        bridge = canvas.polygon(
            _rectangle(0.5 + yaw - eye_dx + 0.05, eye_y - 0.012,
                       0.5 + yaw + eye_dx - 0.05, eye_y - 0.002))
        parts['eye_g'] = canvas.polygon(lenses[0]) | canvas.polygon(
            lenses[1]) | bridge
    for side, s in sides.items():
        parts[f'{side}_eye'] = canvas.polygon(
            _ellipse((0.5 + yaw + s * eye_dx, eye_y),
                     (0.038 * rng.uniform(0.9, 1.1),
                      0.017 * rng.uniform(0.8, 1.2))))
    for side, s in sides.items():
        parts[f'{side}_brow'] = canvas.polygon(
            _ellipse((0.5 + yaw + s * (eye_dx + 0.005), brow_y),
                     (0.052, 0.012 * rng.uniform(0.8, 1.3)),
                     tilt=-s * np.deg2rad(rng.uniform(0, 12))))
    for side, s in sides.items():
        parts[f'{side}_ear'] = canvas.polygon(
            _ellipse((face_c[0] + s * (face_w - 0.005), 0.48), (0.034, 0.065)))
    mouth_c = (0.5 + yaw, mouth_y)
    upper = canvas.polygon(_ellipse(mouth_c, (0.066, 0.021), np.pi,
                                    2 * np.pi))
    lower = canvas.polygon(_ellipse(mouth_c, (0.062, 0.026), 0, np.pi))
    if 'open_mouth' in accessories:
        inner = canvas.polygon(
            _ellipse(mouth_c, (0.046, 0.009 * rng.uniform(0.8, 1.6))))
        parts['mouth'] = inner
        upper, lower = upper & ~inner, lower & ~inner
    parts['u_lip'], parts['l_lip'] = upper, lower
    long_hair = rng.uniform() < 0.5
    hair_outline = _ellipse((0.5, 0.47 if long_hair else 0.42),
                            (face_w + 0.07, 0.36 if long_hair else 0.31))
    below_hairline = canvas.polygon(_rectangle(-0.5, hairline, 1.5, 1.5))
    # Hair goes behind the ears, as when tucked; otherwise ears would vanish.
    parts['hair'] = (canvas.polygon(hair_outline) & ~(skin & below_hairline)
                     & ~parts['l_ear'] & ~parts['r_ear'])
    if 'hat' in accessories:
        parts['hat'] = canvas.polygon(
            _ellipse((0.5, hairline + 0.01), (face_w + 0.07, 0.16), np.pi,
                     2 * np.pi)) | canvas.polygon(
                         _ellipse((0.5, hairline + 0.01),
                                  (face_w + 0.13, 0.03)))
    if 'earrings' in accessories:
        parts['ear_r'] = np.zeros_like(skin)
        for s in sides.values():
            parts['ear_r'] |= canvas.polygon(
                _ellipse((face_c[0] + s * (face_w - 0.002), 0.555),
                         (0.017, 0.017)))
    neck = canvas.polygon(_rectangle(0.5 - 0.085, 0.6, 0.5 + 0.085, 0.9))
    if 'necklace' in accessories:
        # Wider than the neck: the neck wins the overlap (official order),
        # the ends stay visible on the chest.
        parts['neck_l'] = canvas.polyline(
            _ellipse((0.5, 0.77), (0.115, 0.075), 0, np.pi), 0.018)
    parts['neck'] = neck & ~skin
    parts['cloth'] = canvas.polygon([(0.08, 1.1), (0.18, 0.87), (0.41, 0.85),
                                     (0.5, 0.9), (0.59, 0.85), (0.82, 0.87),
                                     (0.92, 1.1)])
    parts = OrderedDict((name, parts[name]) for name in PART_NAMES
                        if name in parts and parts[name].any())
    label = merge_celebamask_parts(parts)
    image = _render(rng, label, canvas, eye_dx, eye_y, yaw)
    landmarks = _landmarks(canvas, face_c, face_w, face_h, eye_dx, eye_y,
                           brow_y, mouth_c, yaw)
    return image, parts, landmarks


def _render(rng, label, canvas, eye_dx, eye_y, yaw):
    skin = np.array(_SKIN_TONES[rng.integers(len(_SKIN_TONES))], float)
    skin = skin * rng.uniform(0.9, 1.1)
    hair = np.array(_HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))], float)
    lips = np.array((85, 80, 185), float) * rng.uniform(0.8, 1.1)
    colours = {
        0: rng.uniform(30, 230, 3), 1: skin, 2: skin * 0.82,
        3: np.array((60, 60, 60)) * rng.uniform(0.5, 1.5),
        4: (235, 235, 235), 5: (235, 235, 235), 6: hair * 0.7 + 10,
        7: hair * 0.7 + 10, 8: skin * 0.93, 9: skin * 0.93,
        10: (45, 30, 95), 11: lips, 12: lips * 1.12, 13: hair,
        14: rng.uniform(20, 240, 3), 15: (40, 185, 225),
        16: (205, 205, 210), 17: skin * 0.88, 18: rng.uniform(20, 240, 3)
    }
    palette = np.zeros((256, 3))
    for class_id, colour in colours.items():
        palette[class_id] = np.clip(colour, 0, 255)
    image = palette[label]
    size = label.shape[0]
    # Irises make the eyes look like eyes; they do not change the label.
    iris = np.zeros(label.shape, np.uint8)
    for s in (-1, 1):
        centre = canvas.to_pixels([(0.5 + yaw + s * eye_dx, eye_y)])[0]
        cv2.circle(iris, tuple(int(v) for v in np.round(centre)),
                   max(1, int(0.012 * size)), 1, -1)
    eye_pixels = iris.astype(bool) & ((label == 4) | (label == 5))
    image[eye_pixels] = rng.uniform(20, 90, 3)
    # Soft light from a random side, then sensor noise and a slight blur.
    xs = np.linspace(-1, 1, size)
    light = 1 + rng.uniform(-0.15, 0.15) * xs[None, :] + rng.uniform(
        -0.1, 0.1) * xs[:, None]
    image = image * light[..., None]
    image += rng.normal(0, rng.uniform(3, 10), image.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(image, (3, 3), 0)


def _landmarks(canvas, face_c, face_w, face_h, eye_dx, eye_y, brow_y,
               mouth_c, yaw):
    """106 points in LaPa's grouping (contour, brows, nose, eyes, mouth)."""
    groups = [
        _ellipse(face_c, (face_w, face_h), 0.1 * np.pi, 0.9 * np.pi, num=33)
    ]
    for s in (-1, 1):
        groups.append(
            _ellipse((0.5 + yaw + s * (eye_dx + 0.005), brow_y),
                     (0.052, 0.012), np.pi, 2 * np.pi, num=9))
    groups.append(
        np.stack([np.full(15, 0.5 + yaw),
                  np.linspace(eye_y, 0.57, 15)], axis=1))
    for s in (-1, 1):
        groups.append(
            _ellipse((0.5 + yaw + s * eye_dx, eye_y), (0.038, 0.017), 0,
                     2 * np.pi, num=9))
    # Counter-clockwise from the image-right corner; the tenth point is the
    # image-left corner.
    groups.append(
        _ellipse(mouth_c, (0.066, 0.024), 0, 2 * np.pi, num=20,
                 endpoint=False))
    groups.append([(0.5 + yaw - eye_dx, eye_y), (0.5 + yaw + eye_dx, eye_y)])
    points = np.concatenate([np.asarray(g, float) for g in groups])
    return canvas.to_pixels(points)


# Indices in the 106 points of draw_face of the eye centres, the nose tip and
# the mouth corners, in mmseg_face.apis.face_detection.LANDMARK_NAMES order
# (subject's right first, which is the image left here).
FIVE_POINT_INDICES = (104, 105, 65, 94, 84)


def five_point_landmarks(landmarks):
    """The ``(5, 2)`` alignment points of :func:`draw_face`'s 106: eye
    centres, nose tip, mouth corners, each pair image-left first."""
    return np.asarray(landmarks)[list(FIVE_POINT_INDICES)]


def compose_wild_scene(canvas_size, placements, face_size=256, seed=0):
    """Drawn faces pasted onto a larger canvas under known similarities.

    Args:
        canvas_size (tuple[int]): ``(height, width)``.
        placements (list[tuple]): ``(angle, scale, (cx, cy))`` per face: a
            counter-clockwise rotation in degrees and a scale about the
            centre of the drawn ``face_size`` square, which then goes to
            ``(cx, cy)`` (it may run off the canvas).
        face_size (int): Side of each drawn face. Default: 256.
        seed (int): Random seed. Default: 0.

    Returns:
        dict: ``image`` (uint8 BGR), ``labels`` (uint8 CelebAMask-HQ ids;
        later faces on top), ``boxes`` (``(N, 4)`` skin bounding boxes
        ``x1, y1, x2, y2``), ``landmarks`` (``(N, 5, 2)``, see
        :func:`five_point_landmarks`) and ``matrices`` (``(N, 2, 3)`` face
        square -> canvas).
    """
    rng = np.random.default_rng(seed)
    height, width = canvas_size
    coarse = rng.integers(60, 200, (4, 4, 3)).astype(np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    labels = np.zeros((height, width), np.uint8)
    boxes, points, matrices = [], [], []
    centre = face_size / 2
    for angle, scale, (cx, cy) in placements:
        face, parts, landmarks = draw_face(rng, face_size, accessories=())
        label = merge_celebamask_parts(parts)
        matrix = cv2.getRotationMatrix2D((centre, centre), angle, scale)
        matrix[:, 2] += (cx - centre, cy - centre)
        warped_label = cv2.warpAffine(label, matrix, (width, height),
                                      flags=cv2.INTER_NEAREST)
        warped_face = cv2.warpAffine(face, matrix, (width, height),
                                     flags=cv2.INTER_LINEAR)
        on_face = warped_label > 0
        labels[on_face] = warped_label[on_face]
        image[on_face] = warped_face[on_face]
        ys, xs = np.nonzero(label == 1)
        skin = np.stack([xs, ys], 1) @ matrix[:, :2].T + matrix[:, 2]
        boxes.append(np.concatenate([skin.min(0), skin.max(0)]))
        points.append(five_point_landmarks(landmarks) @ matrix[:, :2].T +
                      matrix[:, 2])
        matrices.append(matrix)
    return dict(image=image, labels=labels,
                boxes=np.array(boxes).reshape(-1, 4),
                landmarks=np.array(points).reshape(-1, 5, 2),
                matrices=np.array(matrices).reshape(-1, 2, 3))


def _accessories_for(index, rng, dataset):
    if dataset != 'celebamask_hq':
        # Helen and LaPa have no classes for them; keep hair and eyes bare.
        return ('open_mouth', ) if index == 0 or rng.uniform() < 0.6 else ()
    if index == 0:
        return ACCESSORIES  # the first face has every class
    return tuple(a for a in ACCESSORIES if rng.uniform() < 0.5)


def _write(path, data_bytes):
    mmcv.mkdir_or_exist(osp.dirname(path))
    with open(path, 'wb') as f:
        f.write(data_bytes)


def _resize_nearest(mask, size):
    if mask.shape[0] == size:
        return mask
    return cv2.resize(
        mask.astype(np.uint8), (size, size),
        interpolation=cv2.INTER_NEAREST).astype(bool)


def make_sample_release(dataset,
                        out_dir,
                        num_images=10,
                        image_size=None,
                        mask_size=None,
                        seed=0,
                        start_index=0):
    """Write a small release of drawn faces in a dataset's original layout.

    Layouts:
        - celebamask_hq: ``CelebA-HQ-img/{i}.jpg``,
          ``CelebAMask-HQ-mask-anno/{i // 2000}/{i:05d}_{part}.png`` (0/255
          masks of the parts present) and
          ``CelebA-HQ-to-CelebA-mapping.txt`` (with its header; orig_idx
          values on both sides of both split thresholds).
        - helen: ``images/<name>.jpg``,
          ``labels/<name>/<name>_lbl00..10.png`` (blurred one-hot soft
          masks), ``exemplars.txt``/``tuning.txt``/``testing.txt``.
        - lapa: ``{train,val,test}/{images,labels,landmarks}``.

    The k-th image goes to split ``SPLIT_CYCLE[k % 10]`` (6/2/2 per ten);
    image 0 holds every class of the dataset.

    Args:
        dataset (str): 'celebamask_hq', 'helen' or 'lapa'.
        out_dir (str): Release root to create.
        num_images (int): Number of faces. Default: 10.
        image_size (int, optional): Image side. Default: the real size
            (1024 for CelebAMask-HQ, 512 otherwise).
        mask_size (int, optional): CelebAMask-HQ part-mask side. Default:
            half the image side (512 for 1024 images). Helen/LaPa labels
            always have the image size.
        seed (int): Random seed. Default: 0.
        start_index (int): CelebA-HQ id (or name index) of the first image,
            e.g. 27998 to straddle the SegNeXt split. Default: 0.

    Returns:
        str: ``out_dir``.
    """
    if dataset not in SAMPLE_DATASETS:
        raise ValueError(
            f'dataset {dataset!r} is not one of {SAMPLE_DATASETS}')
    image_size = image_size or DEFAULT_IMAGE_SIZES[dataset]
    if dataset != 'celebamask_hq' and mask_size not in (None, image_size):
        raise ValueError(f'{dataset} labels have the image size; got '
                         f'mask_size={mask_size}, image_size={image_size}')
    rng = np.random.default_rng(seed)
    mmcv.mkdir_or_exist(out_dir)
    if dataset == 'celebamask_hq':
        # The release's part masks are half the image side (512 for 1024).
        writer = _CelebAMaskHQWriter(out_dir, mask_size or image_size // 2,
                                     rng)
    else:
        writer = (_HelenWriter if dataset == 'helen' else _LaPaWriter)(out_dir)
    for k in range(num_images):
        image, parts, landmarks = draw_face(
            rng, image_size, _accessories_for(k, rng, dataset))
        writer.add(start_index + k, SPLIT_CYCLE[k % len(SPLIT_CYCLE)], image,
                   parts, landmarks)
    writer.finish()
    return out_dir


class _CelebAMaskHQWriter(object):

    def __init__(self, root, mask_size, rng):
        self.root, self.mask_size, self.rng = root, mask_size, rng
        self.mapping = []
        self.boundaries = {k: list(v) for k, v in _BOUNDARY_ORIG_IDX.items()}

    def add(self, index, split, image, parts, landmarks):
        _write(
            osp.join(self.root, IMAGE_FOLDER, f'{index}.jpg'),
            encode_jpg(image))
        folder = osp.join(self.root, MASK_FOLDER,
                          str(index // IMAGES_PER_MASK_FOLDER))
        for name, mask in parts.items():
            mask = _resize_nearest(mask, self.mask_size)
            if mask.any():
                _write(
                    osp.join(folder, f'{index:05d}_{name}.png'),
                    encode_png(mask.astype(np.uint8) * 255))
        if self.boundaries[split]:
            orig_idx = self.boundaries[split].pop(0)
        else:
            orig_idx = int(self.rng.integers(*_ORIG_IDX_RANGE[split]))
        self.mapping.append((index, orig_idx))

    def finish(self):
        lines = ['idx         orig_idx    orig_file']
        lines += [
            f'{idx:<12d}{orig:<12d}{orig + 1:06d}.jpg'
            for idx, orig in self.mapping
        ]
        _write(
            osp.join(self.root, MAPPING_FILE),
            ('\n'.join(lines) + '\n').encode())


class _HelenWriter(object):

    def __init__(self, root):
        self.root = root
        self.splits = {split: [] for split, _ in HELEN_SPLIT_FILES}

    def add(self, index, split, image, parts, landmarks):
        name = f'{100032540 + 7919 * index}_1'
        _write(
            osp.join(self.root, 'images', f'{name}.jpg'), encode_jpg(image))
        label = CELEBA_TO_ELEVEN[merge_celebamask_parts(parts)]
        for class_id in range(ELEVEN_NUM_CLASSES):
            soft = cv2.GaussianBlur(
                (label == class_id).astype(np.float32) * 255, (5, 5), 1.0)
            _write(
                osp.join(self.root, 'labels', name,
                         f'{name}_lbl{class_id:02d}.png'),
                encode_png(np.round(soft).astype(np.uint8)))
        self.splits[split].append(name)

    def finish(self):
        for split, file_name in HELEN_SPLIT_FILES:
            names = self.splits[split]
            text = ''.join(f'{number} , {name}\n'
                           for number, name in enumerate(names, 1))
            _write(osp.join(self.root, file_name), text.encode())


class _LaPaWriter(object):

    def __init__(self, root):
        self.root = root

    def add(self, index, split, image, parts, landmarks):
        name = f'{20000000 + 7 * index}_{index % 3}'
        folder = osp.join(self.root, split)
        _write(
            osp.join(folder, 'images', f'{name}.jpg'), encode_jpg(image))
        label = CELEBA_TO_ELEVEN[merge_celebamask_parts(parts)]
        _write(osp.join(folder, 'labels', f'{name}.png'), encode_png(label))
        text = f'{len(landmarks)}\n' + ''.join(
            f'{x:.2f} {y:.2f}\n' for x, y in landmarks)
        _write(osp.join(folder, 'landmarks', f'{name}.txt'), text.encode())

    def finish(self):
        for split in SPLITS:
            for sub in ('images', 'labels', 'landmarks'):
                mmcv.mkdir_or_exist(osp.join(self.root, split, sub))


def make_converted_sample(dataset, out_dir, num_images=10, size=64, seed=0):
    """Generate a sample release and convert it: a ready-to-train folder.

    Args:
        dataset (str): 'celebamask_hq', 'helen' or 'lapa'.
        out_dir (str): Parent folder; ``<dataset>_release/`` and
            ``<dataset>/`` are created in it.
        num_images (int): Number of faces (6/2/2 train/val/test per ten).
            Default: 10.
        size (int): Side of the converted images and labels (CelebAMask-HQ
            images are drawn at twice this size and resized, as the real
            1024 -> 512 conversion). Default: 64.
        seed (int): Random seed. Default: 0.

    Returns:
        str: The converted ``data_root``: ``images/``, ``labels/`` and
        ``{train,val,test}.txt``, readable by the dataset classes.

    Raises:
        RuntimeError: If the converter rejected a generated item.
    """
    release = osp.join(out_dir, f'{dataset}_release')
    data_root = osp.join(out_dir, dataset)
    if dataset == 'celebamask_hq':
        make_sample_release(dataset, release, num_images, 2 * size, size,
                            seed)
        summary = convert_celebamask_hq(release, data_root)
    else:
        make_sample_release(dataset, release, num_images, size, None, seed)
        convert = convert_helen if dataset == 'helen' else convert_lapa
        summary = convert(release, data_root)
    if summary.rejected:
        raise RuntimeError('sample conversion rejected items:\n' +
                           summary.format())
    return data_root


__all__ = [
    'ACCESSORIES', 'FIVE_POINT_INDICES', 'SAMPLE_DATASETS', 'SPLIT_CYCLE',
    'compose_wild_scene', 'draw_face', 'five_point_landmarks',
    'make_converted_sample', 'make_sample_release', 'merge_celebamask_parts'
]
