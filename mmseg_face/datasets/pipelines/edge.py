"""Binary edge targets derived from a label map (EHANet / EAGR style)."""
import cv2
import numpy as np
from mmseg.datasets.builder import PIPELINES

EDGE_MODES = ('ehanet', 'eagr')
DEFAULT_EDGE_WIDTH = dict(ehanet=3, eagr=1)

# (dy, dx) neighbours compared with each pixel. EHANet compares the pixel
# above, to the right, lower-right and lower-left and marks only the pixel
# itself; EAGR compares all four 4-neighbours, which marks both sides.
_NEIGHBOURS = dict(
    ehanet=((-1, 0), (0, 1), (1, 1), (1, -1)),
    eagr=((-1, 0), (1, 0), (0, -1), (0, 1)))


def label_to_edge(label, mode='ehanet', width=None, ignore_index=255):
    """Edge map of a label map.

    A pixel is an edge when one of the mode's in-bounds neighbours has a
    different label; pairs involving ``ignore_index`` never make an edge
    (padding and unlabelled areas have no boundary). The marks are then
    dilated with a ``width`` x ``width`` square.

    Args:
        label (np.ndarray): (H, W) integer label map.
        mode (str): 'ehanet' or 'eagr'. Default: 'ehanet'.
        width (int, optional): Side of the square dilation; 1 means none.
            Default: None, the mode's published value (ehanet 3, eagr 1).
        ignore_index (int): Label value treated as unlabelled. Default: 255.

    Returns:
        np.ndarray: uint8 (H, W) map, 1 = edge, 0 = non-edge and
        ``ignore_index`` where the label is ``ignore_index``.
    """
    if mode not in EDGE_MODES:
        raise ValueError(f'edge mode {mode!r} is not one of {EDGE_MODES}')
    width = DEFAULT_EDGE_WIDTH[mode] if width is None else width
    if not isinstance(width, int) or width < 1:
        raise ValueError(f'edge width must be a positive int, got {width!r}')
    label = np.asarray(label)
    if label.ndim != 2:
        raise ValueError(f'label must be 2-D, got shape {label.shape}')
    height, w = label.shape
    valid = label != ignore_index
    edge = np.zeros(label.shape, dtype=bool)
    for dy, dx in _NEIGHBOURS[mode]:
        # Overlapping windows: `here` is the pixel, `there` its neighbour.
        ys_here = slice(max(0, -dy), height - max(0, dy))
        xs_here = slice(max(0, -dx), w - max(0, dx))
        ys_there = slice(max(0, dy), height - max(0, -dy))
        xs_there = slice(max(0, dx), w - max(0, -dx))
        differs = ((label[ys_here, xs_here] != label[ys_there, xs_there])
                   & valid[ys_here, xs_here] & valid[ys_there, xs_there])
        edge[ys_here, xs_here] |= differs
    edge = edge.astype(np.uint8)
    if width > 1:
        edge = cv2.dilate(edge, np.ones((width, width), np.uint8))
    edge[~valid] = ignore_index
    return edge


@PIPELINES.register_module()
class GenerateFaceEdge(object):
    """Add the edge map of the (augmented) label as ``results['gt_edge']``.

    Place it after the geometric augmentations (resize, crop, flip, pad) so
    edges follow the final label; ``gt_edge`` is appended to ``seg_fields``
    so later geometric steps treat it like a label. Format it with
    :class:`FaceFormatBundle` and collect it with
    ``Collect(keys=['img', 'gt_semantic_seg', 'gt_edge'])``.

    Args:
        mode (str): 'ehanet' (4 directional comparisons, then a square
            dilation) or 'eagr' (4-neighbourhood, both sides marked).
            Default: 'ehanet'.
        width (int, optional): Dilation square side. Default: None (3 for
            ehanet, 1 = no dilation for eagr).
        ignore_index (int): Unlabelled value, copied into ``gt_edge``.
            Default: 255.
    """

    def __init__(self, mode='ehanet', width=None, ignore_index=255):
        if mode not in EDGE_MODES:
            raise ValueError(
                f'edge mode {mode!r} is not one of {EDGE_MODES}')
        self.mode = mode
        self.width = DEFAULT_EDGE_WIDTH[mode] if width is None else width
        self.ignore_index = ignore_index
        label_to_edge(np.zeros((1, 1), np.uint8), mode, self.width)

    def __call__(self, results):
        results['gt_edge'] = label_to_edge(results['gt_semantic_seg'],
                                           self.mode, self.width,
                                           self.ignore_index)
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_edge' not in seg_fields:
            seg_fields.append('gt_edge')
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(mode={self.mode!r}, '
                f'width={self.width}, ignore_index={self.ignore_index})')
