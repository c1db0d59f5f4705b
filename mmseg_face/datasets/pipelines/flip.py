import numpy as np
from mmseg.datasets.builder import PIPELINES
from mmseg.datasets.pipelines import RandomFlip

from mmseg_face.core.flip_pairs import swap_permutation


@PIPELINES.register_module()
class FaceRandomFlip(RandomFlip):
    """Horizontal flip that also swaps left/right class ids.

    Mirrors ``img`` and every map in ``seg_fields`` (label, edge map...) like
    mmseg's :class:`RandomFlip`, then, for a horizontal flip, exchanges the
    ids of each flip pair in ``gt_semantic_seg`` only: a mirrored left eye
    becomes a right eye. A ``flip`` flag already in ``results`` (set by
    ``MultiScaleFlipAug``) is obeyed.

    Args:
        prob (float, optional): Flip probability. Default: None (flip only
            when ``results['flip']`` says so).
        flip_pairs (Sequence[tuple[int, int]]): Class-id pairs to swap, e.g.
            the dataset's ``FLIP_PAIRS``. Default: ().
        direction (str): 'horizontal' or 'vertical'; ids are swapped only
            for horizontal flips. Default: 'horizontal'.
    """

    def __init__(self, prob=None, flip_pairs=(), direction='horizontal'):
        super().__init__(prob=prob, direction=direction)
        self.flip_pairs = tuple(tuple(pair) for pair in flip_pairs)
        # A 256-entry lookup table keeps 255 (ignore) and any id outside
        # the pairs unchanged.
        self.lut = swap_permutation(256, self.flip_pairs).astype(np.uint8)

    def __call__(self, results):
        results = super().__call__(results)
        if (results['flip'] and results['flip_direction'] == 'horizontal'
                and 'gt_semantic_seg' in results and self.flip_pairs):
            label = results['gt_semantic_seg']
            results['gt_semantic_seg'] = self.lut[label].astype(label.dtype)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'flip_pairs={self.flip_pairs}, '
                f'direction={self.direction!r})')
