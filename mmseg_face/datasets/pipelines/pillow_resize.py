import mmcv
import numpy as np
from mmseg.datasets.builder import PIPELINES


@PIPELINES.register_module()
class PillowResize:
    """Resize the image to ``results['scale']`` with Pillow, ignoring aspect.

    Published face parsers built on PIL (face-parsing.PyTorch, yakhyo's
    BiSeNet) resize with ``Image.resize``, whose bilinear filter widens its
    support when it shrinks an image; OpenCV's ``INTER_LINEAR`` (mmseg's
    ``Resize``) does not, so the two disagree on every downscaled input.
    This transform reproduces the original preprocessing; it sets the same
    keys as mmseg's ``Resize(keep_ratio=False)`` and is used in place of it
    inside ``MultiScaleFlipAug``.

    Args:
        interpolation (str): Pillow filter name as ``mmcv.imresize`` takes
            it ('nearest', 'bilinear', 'bicubic', 'box', 'lanczos',
            'hamming'). Default: 'bilinear'.
    """

    def __init__(self, interpolation='bilinear'):
        self.interpolation = interpolation

    def __call__(self, results):
        img, w_scale, h_scale = mmcv.imresize(
            results['img'], tuple(results['scale']), return_scale=True,
            interpolation=self.interpolation, backend='pillow')
        results['img'] = img
        results['img_shape'] = img.shape
        results['pad_shape'] = img.shape
        results['scale_factor'] = np.array(
            [w_scale, h_scale, w_scale, h_scale], dtype=np.float32)
        results['keep_ratio'] = False
        return results

    def __repr__(self):
        return f'{type(self).__name__}(interpolation={self.interpolation!r})'
