"""Face alignment presets: how a face is cut out of an image for a parser.

A model parses well only crops framed like its training data, so each
preset reproduces one family of training crops:

- ``celeba_hq``: the oriented square crop CelebA-HQ was made with (Karras et
  al., 2018, ``create_celebahq``), computed from the eye and mouth points.
  CelebAMask-HQ images are these crops.
- ``farl``: facer's five-point template for FaRL's LaPa model, a
  least-squares similarity followed by facer's tanh warp (factor 0.8), which
  keeps the face linear and squeezes the surroundings into the crop border.
- ``box``: the face box plus a margin on each side, levelled by the eyes when
  they are known (:func:`face_to_crop_matrix`): LaPa and Helen images are
  face-centred crops with a margin.
- ``facer_celebm`` and ``facer_lapa``: exactly what facer does for its FaRL
  parsers ``farl/celebm/448`` (the CelebA-HQ quad, no tanh warp) and
  ``farl/lapa/448`` (the five-point template and the tanh warp), from the
  same landmark numbers: a float bilinear ``grid_sample`` of the image
  (zero outside) instead of OpenCV's uint8 warp with its 1/32-pixel
  interpolation steps, facer's half-pixel convention for the template, and
  the logits, not the probabilities, sampled back into the image before the
  argmax (:func:`paste_face_logits`).

Coordinates are OpenCV's: ``(x, y)`` in pixels, pixel ``(row i, column j)``
has its centre at ``(j, i)``. A crop and the way back to the image are one
:class:`FaceWarp`.
"""
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .face_detection import face_to_crop_matrix

# facer's template (transform.py, _standard_face_pts): the five points in a
# 512-pixel frame, mapped to [-1, 1] by /256 - 1.
FARL_TEMPLATE = np.array([[196.0, 226.0], [316.0, 226.0], [256.0, 286.0],
                          [220.0, 360.4], [292.0, 360.4]]) / 256.0 - 1.0
# facer's 'lapa/448' setting (face_parsing/farl.py).
FARL_WARP_FACTOR = 0.8
# Keeps arctanh finite at the crop border, as facer's _safe_arctanh does.
_TANH_EPS = 1e-3
# Foreground probabilities this close count as a tie in paste-back.
TIE_TOLERANCE = 1e-3


def similarity_from_points(src, dst):
    """Least-squares similarity (rotation, uniform scale, shift) src -> dst.

    Umeyama's closed form (1991) without reflection: the rotation has
    determinant +1 even when the points are mirrored.

    Args:
        src (array-like): ``(N, 2)`` points, N >= 2.
        dst (array-like): ``(N, 2)`` corresponding points.

    Returns:
        np.ndarray: ``(2, 3)`` float64 matrix ``M`` with ``dst ~ M @ [x, y,
        1]``.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 \
            or len(src) < 2:
        raise ValueError(f'need two (N, 2) point arrays with N >= 2, got '
                         f'{src.shape} and {dst.shape}')
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    src_var = (src_c**2).sum(1).mean()
    if src_var == 0:
        raise ValueError('the source points all coincide')
    u, s, vt = np.linalg.svd(dst_c.T @ src_c / len(src))
    d = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rotation = u @ d @ vt
    scale = np.trace(np.diag(s) @ d) / src_var
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]])


@dataclass(frozen=True)
class FaceWarp:
    """Map between image pixels and one face crop's pixels.

    Image points go through the affine ``matrix`` into the aligned frame of
    the crop, then, when ``warp_factor > 0``, through facer's tanh warp:
    with ``n`` a coordinate normalised to [-1, 1] over the crop, the part
    with ``|n| <= 1 - warp_factor`` stays linear and the rest becomes
    ``sign(n) * (1 - k + k * tanh((|n| - 1 + k) / k))``, ``k =
    warp_factor``, so the whole image lands inside the crop.

    With ``float_sampling`` the crop and the way back sample as facer does,
    with ``grid_sample`` (bilinear, ``align_corners=False``, zero outside)
    in float32: the crop keeps fractions of grey levels, and a pixel counts
    as covered by the crop wherever a bilinear tap of it falls inside.

    Attributes:
        matrix (np.ndarray): ``(2, 3)`` image -> aligned-crop pixels.
        crop_size (int): Side of the square crop.
        warp_factor (float): 0 for a plain affine crop.
        float_sampling (bool): facer's float ``grid_sample`` instead of
            OpenCV's warp. Default: False.
    """
    matrix: np.ndarray
    crop_size: int
    warp_factor: float = 0.0
    float_sampling: bool = False

    def image_to_crop(self, points):
        """Crop coordinates of ``(N, 2)`` image points."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        aligned = points @ self.matrix[:, :2].T + self.matrix[:, 2]
        return self._squeeze(aligned, np.tanh)

    def crop_to_image(self, points):
        """Image coordinates of ``(N, 2)`` crop points (the inverse)."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        aligned = self._squeeze(points, _safe_arctanh)
        linear, shift = self.matrix[:, :2], self.matrix[:, 2]
        return (aligned - shift) @ np.linalg.inv(linear).T

    def _squeeze(self, coords, fn):
        """Apply ``fn`` (tanh or its inverse) to the outer band, per axis."""
        if self.warp_factor <= 0:
            return coords
        k = self.warp_factor
        size = self.crop_size
        n = (coords + 0.5) * 2 / size - 1
        outer = np.abs(n) > 1 - k
        bent = np.sign(n) * (1 - k + k * fn((np.abs(n) - 1 + k) / k))
        n = np.where(outer, bent, n)
        return (n + 1) * size / 2 - 0.5

    @property
    def _extent(self):
        # A float bilinear tap still reaches a pixel within one pixel of it.
        if self.float_sampling:
            return -1.0, float(self.crop_size)
        # The tanh warp reaches the crop edge only at infinity: its crop
        # ends at the border pixel centres.
        if self.warp_factor > 0:
            return 0.0, self.crop_size - 1.0
        return -0.5, self.crop_size - 0.5

    def crop(self, img, interpolation=cv2.INTER_LINEAR):
        """Cut this crop out of ``img`` (black outside the image).

        Args:
            img (np.ndarray): ``(H, W)`` or ``(H, W, C)`` image.
            interpolation (int): OpenCV flag; ``cv2.INTER_NEAREST`` for
                label maps. Default: bilinear.
        """
        size = self.crop_size
        if self.float_sampling:
            return self._float_crop(img)
        if self.warp_factor <= 0:
            return cv2.warpAffine(
                img, self.matrix, (size, size), flags=interpolation,
                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        ys, xs = np.mgrid[:size, :size]
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        maps = self.crop_to_image(grid).astype(np.float32).reshape(
            size, size, 2)
        return cv2.remap(img, maps[..., 0], maps[..., 1], interpolation,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def _float_crop(self, img):
        """The crop as facer cuts it: float32 (grey levels 0-255 of
        ``img``), bilinear ``grid_sample`` at the image points of the crop's
        pixel centres, zero outside the image."""
        size = self.crop_size
        ys, xs = np.mgrid[:size, :size]
        points = self.crop_to_image(np.stack([xs.ravel(), ys.ravel()], 1))
        channels = img.reshape(img.shape[:2] + (-1, ))
        values = grid_sample_channels(
            channels.transpose(2, 0, 1), points[:, 0].reshape(size, size),
            points[:, 1].reshape(size, size), img.shape[1::-1])
        return values.reshape((size, size) + img.shape[2:])

    def image_region(self, image_shape):
        """Image rows and columns the crop covers, clipped to the image.

        Returns:
            tuple[slice, slice] | None: ``(rows, cols)``, or None when the
            crop lies outside the image.
        """
        low, high = self._extent
        corners = self.crop_to_image([(low, low), (high, low), (high, high),
                                      (low, high)])
        height, width = image_shape[:2]
        x0, y0 = np.floor(corners.min(0)).astype(int)
        x1, y1 = np.ceil(corners.max(0)).astype(int) + 1
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, width), min(y1, height)
        if x0 >= x1 or y0 >= y1:
            return None
        return slice(y0, y1), slice(x0, x1)

    def image_maps(self, region):
        """Where the image pixels of ``region`` fall in the crop.

        Args:
            region (tuple[slice, slice]): From :meth:`image_region`.

        Returns:
            tuple[np.ndarray]: ``(rh, rw)`` float32 crop x and y of each
            pixel (``cv2.remap`` maps), the bool mask of the pixels inside
            the crop and their distance from the crop centre in the aligned
            (unwarped) frame, in half crop sides (Chebyshev): below 1 in the
            crop's linear part, larger where the tanh warp squeezes.
        """
        rows, cols = region
        xs = np.arange(cols.start, cols.stop, dtype=np.float32)[None, :]
        ys = np.arange(rows.start, rows.stop, dtype=np.float32)[:, None]
        (a, b, c), (d, e, f) = self.matrix.astype(np.float32)
        aligned_x = a * xs + b * ys + c
        aligned_y = d * xs + e * ys + f
        half = self.crop_size / 2
        radius = np.maximum(np.abs(aligned_x + 0.5 - half),
                            np.abs(aligned_y + 0.5 - half)) / half
        map_x = self._squeeze(aligned_x, np.tanh).astype(np.float32)
        map_y = self._squeeze(aligned_y, np.tanh).astype(np.float32)
        low, high = self._extent
        if self.float_sampling:
            inside = ((map_x > low) & (map_x < high) & (map_y > low) &
                      (map_y < high))
        else:
            inside = ((map_x >= low) & (map_x <= high) & (map_y >= low) &
                      (map_y <= high))
        return map_x, map_y, inside, radius

    def sample_at_image(self, crop_values, region):
        """Bilinearly sample crop values at the image pixels of ``region``.

        Args:
            crop_values (np.ndarray): ``(C, h, w)`` float32 values on the
                crop grid (e.g. class probabilities); fastest as a view of
                channel-last memory, as :meth:`FaceParser.parse_crops`
                returns them.
            region (tuple[slice, slice]): From :meth:`image_region`.

        Returns:
            tuple[np.ndarray]: ``(rh, rw, C)`` float32 values (channels
            last), then the mask and distances of :meth:`image_maps`.
        """
        map_x, map_y, inside, radius = self.image_maps(region)
        return remap_channels(crop_values, map_x, map_y), inside, radius


def remap_channels(crop_values, map_x, map_y):
    """``cv2.remap`` (bilinear) of a ``(C, h, w)`` stack, all channels in
    one call; returns ``map_x.shape + (C, )`` float32."""
    channels_last = np.ascontiguousarray(
        np.asarray(crop_values, np.float32).transpose(1, 2, 0))
    values = cv2.remap(channels_last, map_x, map_y, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
    return values.reshape(map_x.shape + (-1, ))


def grid_sample_channels(values, map_x, map_y, grid_size):
    """Bilinear float samples of a ``(C, h, w)`` stack, as facer's
    ``grid_sample(..., align_corners=False)`` (zero outside).

    The sample points are pixel coordinates (OpenCV's) of a frame of
    ``grid_size`` ``(w, h)`` pixels spanning the same area as ``values``,
    which may have another resolution: facer samples its 512 x 512 logits
    at points of the 448 x 448 crop.

    Returns:
        np.ndarray: ``map_x.shape + (C, )`` float32.
    """
    if np.isscalar(grid_size):
        grid_size = (grid_size, grid_size)
    size = torch.tensor(grid_size, dtype=torch.float64)
    points = torch.from_numpy(np.stack([map_x, map_y], -1).astype(np.float64))
    grid = ((points + 0.5) / size * 2 - 1).float()[None]
    source = torch.from_numpy(np.ascontiguousarray(values, np.float32))
    with torch.no_grad():
        sampled = F.grid_sample(source[None], grid, mode='bilinear',
                                padding_mode='zeros', align_corners=False)
    return sampled[0].permute(1, 2, 0).numpy()


def _safe_arctanh(x):
    return np.arctanh(np.clip(x, -1 + _TANH_EPS, 1 - _TANH_EPS))


def _rot90(v):
    return np.array([-v[1], v[0]])


def celeba_hq_matrix(landmarks, crop_size):
    """Image -> crop matrix of CelebA-HQ's oriented square crop.

    The square is centred a tenth of the way from the eye midpoint to the
    mouth midpoint, oriented by the eye line and the eye-to-mouth line, with
    half side ``max(2 * eye distance, 1.8 * eye-to-mouth distance)``, as in
    CelebA-HQ's creation script (which works in PIL coordinates, pixel
    centres at +0.5, so its ``+ 0.5`` on the points and the crop's pixel
    edges at 0 and ``size`` become OpenCV's -0.5 and ``size - 0.5``).
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    eye_avg = (lm[0] + lm[1]) / 2
    mouth_avg = (lm[3] + lm[4]) / 2
    eye_to_eye = lm[1] - lm[0]
    eye_to_mouth = mouth_avg - eye_avg
    x = eye_to_eye - _rot90(eye_to_mouth)
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = _rot90(x)
    c = eye_avg + eye_to_mouth * 0.1
    quad = np.stack([c - x - y, c + x - y, c + x + y, c - x + y])
    low, high = -0.5, crop_size - 0.5
    square = [(low, low), (high, low), (high, high), (low, high)]
    return similarity_from_points(quad, square)


def farl_matrix(landmarks, crop_size):
    """Image -> aligned-crop matrix of facer's five-point template."""
    target = (FARL_TEMPLATE + 1) * (crop_size - 1) / 2
    return similarity_from_points(landmarks, target)


def facer_lapa_matrix(landmarks, crop_size):
    """Image -> aligned-crop matrix of facer's ``farl/lapa/448``, exactly.

    facer fits the landmarks to its template at ``(T + 1) * (size - 1) /
    2`` but applies the matrix to coordinates whose pixel centres lie at
    +0.5 (its grids, ``grid_sample`` with ``align_corners=False``), taking
    the landmark numbers as such coordinates too. In OpenCV's coordinates
    the same map is ``M(x + 0.5) - 0.5``: its shift differs by
    ``0.5 * (A @ (1, 1) - 1)``, a part of a pixel that :func:`farl_matrix`
    leaves out.
    """
    matrix = farl_matrix(landmarks, crop_size)
    matrix[:, 2] += 0.5 * (matrix[:, :2].sum(1) - 1)
    return matrix


@dataclass(frozen=True)
class AlignmentPreset:
    """How one family of training crops is framed.

    Attributes:
        name (str): Key in :data:`ALIGNMENT_PRESETS`.
        matrix_fn (callable): ``(face, crop_size, margin) -> (2, 3)`` image
            -> aligned-crop matrix.
        needs_landmarks (bool): Faces without five points fall back to the
            ``box`` preset.
        warp_factor (float): facer's tanh warp factor; 0 for none.
        facer_sampling (bool): Crop with a float ``grid_sample`` and paste
            the logits back (:func:`paste_face_logits`), as facer does.
    """
    name: str
    matrix_fn: Callable
    needs_landmarks: bool
    warp_factor: float = 0.0
    facer_sampling: bool = False


ALIGNMENT_PRESETS = {
    'celeba_hq':
    AlignmentPreset(
        'celeba_hq',
        lambda face, size, margin: celeba_hq_matrix(face.landmarks, size),
        needs_landmarks=True),
    'farl':
    AlignmentPreset(
        'farl',
        lambda face, size, margin: farl_matrix(face.landmarks, size),
        needs_landmarks=True,
        warp_factor=FARL_WARP_FACTOR),
    'box':
    AlignmentPreset(
        'box',
        lambda face, size, margin: face_to_crop_matrix(
            face, (size, size), margin),
        needs_landmarks=False),
    # facer's celebm matrix is celeba_hq's: its get_quad adds 0.5 to the
    # landmarks and maps the quad to [0, size], which is the same square in
    # OpenCV's coordinates.
    'facer_celebm':
    AlignmentPreset(
        'facer_celebm',
        lambda face, size, margin: celeba_hq_matrix(face.landmarks, size),
        needs_landmarks=True,
        facer_sampling=True),
    'facer_lapa':
    AlignmentPreset(
        'facer_lapa',
        lambda face, size, margin: facer_lapa_matrix(face.landmarks, size),
        needs_landmarks=True,
        warp_factor=FARL_WARP_FACTOR,
        facer_sampling=True),
}


def get_preset(preset):
    """An :class:`AlignmentPreset` from itself or its name."""
    if isinstance(preset, AlignmentPreset):
        return preset
    if preset not in ALIGNMENT_PRESETS:
        raise ValueError(f'unknown face alignment {preset!r}; choose one of '
                         f'{", ".join(ALIGNMENT_PRESETS)}')
    return ALIGNMENT_PRESETS[preset]


def face_warp(face, preset, crop_size, margin=0.5):
    """The :class:`FaceWarp` of a face under a preset.

    A face without landmarks (a Haar detection, a user's box) is framed by
    the ``box`` preset whatever ``preset`` asks for.

    Args:
        face (Face): The face.
        preset (str | AlignmentPreset): ``celeba_hq``, ``farl`` or ``box``.
        crop_size (int): Side of the square crop.
        margin (float): Context of the ``box`` preset. Default: 0.5.
    """
    preset = get_preset(preset)
    float_sampling = preset.facer_sampling
    if preset.needs_landmarks and face.landmarks is None:
        preset = ALIGNMENT_PRESETS['box']
    matrix = preset.matrix_fn(face, crop_size, margin)
    return FaceWarp(matrix, int(crop_size), preset.warp_factor,
                    float_sampling)


def align_face(img, face, preset, crop_size, margin=0.5):
    """Cut an aligned face crop out of an image.

    Args:
        img (np.ndarray): ``(H, W, 3)`` BGR image.
        face (Face): The face (with landmarks for ``celeba_hq``/``farl``).
        preset (str | AlignmentPreset): See :data:`ALIGNMENT_PRESETS`.
        crop_size (int): Side of the square crop.
        margin (float): Context of the ``box`` preset. Default: 0.5.

    Returns:
        tuple[np.ndarray, FaceWarp]: ``(crop, warp)``; ``warp`` maps crop
        pixels back to the image (:meth:`FaceWarp.crop_to_image`,
        :meth:`FaceWarp.sample_at_image`). Pixels outside the image are
        black. The crop is uint8, or float32 for the facer presets.
    """
    warp = face_warp(face, preset, crop_size, margin)
    return warp.crop(img), warp


def crop_label_probs(labels, warp, num_classes):
    """One-hot ``(C, size, size)`` probabilities of a label map's crop.

    What a perfect parser returns for the crop: ground truth in the format
    of :meth:`FaceParser.parse_crops`, for tests and figures.
    """
    crop = warp.crop(np.ascontiguousarray(labels, np.uint8),
                     cv2.INTER_NEAREST)
    return (np.arange(num_classes)[:, None, None] == crop).astype(np.float32)


def paste_face_probs(image_shape, crop_results, num_classes=None):
    """Warp the class probabilities of face crops back into the image.

    Each crop's probabilities are sampled bilinearly at the image pixels it
    covers. Where crops overlap, a pixel takes the face with the highest
    foreground probability (``1 - p[0]``), so a neighbour's margin, which
    its parser calls background, never paints over a face; on a tie (within
    ``TIE_TOLERANCE``) the face whose crop centre is nearer, in that crop's
    own scale, wins: its crop sees the pixel larger. Pixels of no crop are
    background with probability 1.

    Args:
        image_shape (tuple[int]): ``(H, W)`` of the image.
        crop_results (list[tuple]): ``(probs, warp)`` per face: ``(C, h,
            w)`` float32 probabilities on the crop and its
            :class:`FaceWarp`, as :meth:`FaceParser.parse_crops` returns.
        num_classes (int, optional): C, needed only without any crop.

    Returns:
        np.ndarray: ``(C, H, W)`` float32 probabilities.
    """
    if crop_results:
        num_classes = len(crop_results[0][0])
    elif num_classes is None:
        raise ValueError('num_classes is needed when there is no crop')
    probs = np.zeros((num_classes, ) + tuple(image_shape[:2]), np.float32)
    probs[0] = 1
    for region, crop_probs, maps, _, wins in _winning_pixels(
            image_shape, crop_results):
        values = remap_channels(crop_probs, *maps)
        probs[(slice(None), ) + region][:, wins] = values[wins].T
    return probs


def paste_face_argmax(image_shape, crop_results):
    """Labels of :func:`paste_face_probs` without the full probability map.

    Only pixels won with a foreground probability above 1/2 can have a
    foreground label (the classes sum to 1), so all classes are sampled only
    in their bounding box: for a tanh crop, which reaches the whole image,
    about the face instead of the image.

    Returns:
        np.ndarray: ``(H, W)`` uint8 class ids.
    """
    labels = np.zeros(image_shape[:2], np.uint8)
    for region, crop_probs, (map_x, map_y), foreground, wins in \
            _winning_pixels(image_shape, crop_results):
        np.copyto(labels[region], 0, where=wins)
        candidates = wins & (foreground > 0.5)
        if not candidates.any():
            continue
        rows, cols = (np.flatnonzero(candidates.any(axis))
                      for axis in (1, 0))
        window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        values = remap_channels(crop_probs, map_x[window], map_y[window])
        np.copyto(labels[region][window], values.argmax(2),
                  casting='unsafe', where=candidates[window])
    return labels



def paste_face_logits(image_shape, crop_results, return_probs=False):
    """Labels of face crops' logits sampled back into the image, as facer.

    facer samples each face's logits (its network's 512 x 512 map) at the
    image pixels with ``grid_sample`` (bilinear, zero outside the crop) and
    takes the argmax there, so a pixel's label comes from interpolated
    logits, not interpolated probabilities. So it is done here, for crops
    whose :class:`FaceWarp` has ``float_sampling``. Where crops overlap the
    rule of :func:`paste_face_probs` decides, on the softmax of the
    sampled logits; pixels of no crop are background.

    Args:
        image_shape (tuple[int]): ``(H, W)`` of the image.
        crop_results (list[tuple]): ``(logits, warp)`` per face: ``(C, h,
            w)`` float32 logits over the crop's area (at any resolution) and
            its :class:`FaceWarp`.
        return_probs (bool): Also return the ``(C, H, W)`` float32 softmax
            of the pasted logits (background 1 outside every crop).
            Default: False.

    Returns:
        np.ndarray | tuple: ``(H, W)`` uint8 labels, and the probabilities
        with ``return_probs``.
    """
    labels = np.zeros(image_shape[:2], np.uint8)
    probs = None
    if return_probs:
        if not crop_results:
            raise ValueError('return_probs needs at least one crop (for the '
                             'number of classes)')
        probs = np.zeros((len(crop_results[0][0]), ) + tuple(image_shape[:2]),
                         np.float32)
        probs[0] = 1
    best = np.full(image_shape[:2], -1, np.float32)
    best_radius = np.full(image_shape[:2], np.inf, np.float32)
    for crop_logits, warp in crop_results:
        region = warp.image_region(image_shape)
        if region is None:
            continue
        map_x, map_y, inside, radius = warp.image_maps(region)
        logits = grid_sample_channels(crop_logits, map_x, map_y,
                                      warp.crop_size)
        crop_probs = torch.from_numpy(logits).softmax(-1).numpy()
        wins = _claim(best[region], best_radius[region], 1 - crop_probs[..., 0],
                      inside, radius)
        np.copyto(labels[region], logits.argmax(-1), casting='unsafe',
                  where=wins)
        if probs is not None:
            probs[(slice(None), ) + region][:, wins] = crop_probs[wins].T
    return (labels, probs) if return_probs else labels


def _claim(best_here, radius_here, foreground, inside, radius):
    """The pixels a crop wins over the crops before it (updating their
    best foreground and radius in place): a clearly higher foreground
    probability, or on a tie the nearer crop centre."""
    tie = np.abs(foreground - best_here) <= TIE_TOLERANCE
    wins = inside & ((foreground > best_here + TIE_TOLERANCE) |
                     (tie & (radius < radius_here)))
    np.copyto(best_here, foreground, where=wins)
    np.copyto(radius_here, radius, where=wins)
    return wins


def _winning_pixels(image_shape, crop_results):
    """Yield ``(region, crop_probs, maps, foreground, wins)`` per crop: its
    remap maps, foreground probability and the pixels it wins so far (later
    crops overwrite the pixels they win)."""
    best = np.full(image_shape[:2], -1, np.float32)  # -1: no crop yet
    best_radius = np.full(image_shape[:2], np.inf, np.float32)
    for crop_probs, warp in crop_results:
        region = warp.image_region(image_shape)
        if region is None:
            continue
        map_x, map_y, inside, radius = warp.image_maps(region)
        # Background alone decides who wins: one channel to sample.
        foreground = 1 - remap_channels(crop_probs[:1], map_x, map_y)[..., 0]
        wins = _claim(best[region], best_radius[region], foreground, inside,
                      radius)
        yield region, crop_probs, (map_x, map_y), foreground, wins
