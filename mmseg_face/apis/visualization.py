"""Rendering of face-parsing label maps: colour maps, overlays, class masks."""
import numpy as np

# Pixels blended at once by render_overlay.
OVERLAY_BAND_PIXELS = 1 << 20


def _as_palette(palette):
    """Check ``palette`` and return it as a ``(C, 3)`` uint8 RGB array."""
    palette = np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] != 3:
        raise ValueError(
            f'palette must be a sequence of RGB triples, got shape '
            f'{palette.shape}')
    if palette.min() < 0 or palette.max() > 255:
        raise ValueError('palette values must lie in [0, 255]')
    return palette.astype(np.uint8)


def colorize_labels(labels, palette):
    """Paint a label map with a dataset palette.

    Args:
        labels (np.ndarray): ``(H, W)`` integer class ids.
        palette (Sequence[Sequence[int]]): RGB colour of each class, in class
            order, as stored in a dataset's ``PALETTE``.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 colour image in **BGR** order, ready
        for ``mmcv.imwrite``/OpenCV like the images it will be blended with.
    """
    palette = _as_palette(palette)
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f'labels must be a (H, W) map, got shape '
                         f'{labels.shape}')
    if labels.size and labels.max() >= len(palette):
        raise ValueError(
            f'label {int(labels.max())} has no colour: the palette has '
            f'{len(palette)} entries')
    return palette[labels][..., ::-1].copy()


def render_overlay(img, labels, palette, opacity=0.5):
    """Blend the palette colours of ``labels`` over a BGR image.

    Each output pixel is ``(1 - opacity) * img + opacity * colour``, rounded,
    which is mmseg's ``show_result`` blend.

    Args:
        img (np.ndarray): ``(H, W, 3)`` uint8 BGR image.
        labels (np.ndarray): ``(H, W)`` class ids of the same size.
        palette (Sequence[Sequence[int]]): RGB colour per class.
        opacity (float): Weight of the colour map, in ``(0, 1]``.
            Default: 0.5.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 BGR overlay.
    """
    if not 0 < opacity <= 1:
        raise ValueError(f'opacity must be in (0, 1], got {opacity}')
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'img must be a (H, W, 3) BGR image, got shape '
                         f'{img.shape}')
    labels = np.asarray(labels)
    if img.shape[:2] != labels.shape:
        raise ValueError(f'image size {img.shape[:2]} differs from label '
                         f'size {labels.shape}')
    palette = _as_palette(palette)
    overlay = np.empty_like(img, dtype=np.uint8)
    # Blended in bands of rows: float copies of a whole large image would
    # take 12 bytes per pixel and channel.
    band = max(1, OVERLAY_BAND_PIXELS // max(img.shape[1], 1))
    for start in range(0, img.shape[0], band):
        rows = slice(start, start + band)
        color = colorize_labels(labels[rows], palette).astype(np.float32)
        blended = (1 - opacity) * img[rows].astype(np.float32) + \
            opacity * color
        overlay[rows] = np.clip(np.rint(blended), 0, 255)
    return overlay


def class_masks(labels, classes, names):
    """Binary masks of chosen classes.

    Args:
        labels (np.ndarray): ``(H, W)`` class ids.
        classes (Sequence[str]): Class names in id order (a dataset's
            ``CLASSES``).
        names (Sequence[str]): Names of the classes to extract.

    Returns:
        dict[str, np.ndarray]: For each name, a ``(H, W)`` uint8 mask with 255
        on the pixels of that class and 0 elsewhere.
    """
    index = resolve_class_ids(classes, names)
    labels = np.asarray(labels)
    return {
        name: (labels == class_id).astype(np.uint8) * np.uint8(255)
        for name, class_id in index.items()
    }


def resolve_class_ids(classes, names):
    """Map class names to ids, failing loudly on unknown names.

    Args:
        classes (Sequence[str]): Class names in id order.
        names (Sequence[str]): Names to look up.

    Returns:
        dict[str, int]: ``name -> class id`` in the order of ``names``.
    """
    lookup = {name: class_id for class_id, name in enumerate(classes)}
    unknown = [name for name in names if name not in lookup]
    if unknown:
        raise ValueError(f'unknown class name(s) {unknown}; this model has '
                         f'classes {list(classes)}')
    return {name: lookup[name] for name in names}
