"""Fully connected CRF refinement of class probabilities (DeepLab v1).

`Efficient Inference in Fully Connected CRFs with Gaussian Edge Potentials
<https://arxiv.org/abs/1210.5644>`_, through the ``pydensecrf2`` package
(Krähenbühl's C++ code), an optional dependency: only the test-time step
``test_cfg.crf`` of :class:`FaceEncoderDecoder` needs it.
"""
import numpy as np

# DeepLab v1's CRF: 10 mean-field iterations, a smoothness kernel (weight 3,
# 3 px) and an appearance kernel (weight 4, 121 px, 5 intensity levels).
DEEPLAB_V1_CRF = dict(
    num_iters=10, pos_w=3, pos_xy_std=3, bi_w=4, bi_xy_std=121, bi_rgb_std=5)


def import_densecrf():
    """The ``pydensecrf.densecrf`` module, or an error saying what to install.
    """
    try:
        from pydensecrf import densecrf
    except ImportError as error:
        raise ImportError(
            'test_cfg.crf (dense CRF post-processing) needs the optional '
            'package pydensecrf2: pip install pydensecrf2==1.1') from error
    return densecrf


def check_crf_cfg(crf_cfg):
    """Raise if ``crf_cfg`` has a key :func:`dense_crf` does not take, or
    if pydensecrf2 is missing, so a bad config fails when it is built."""
    unknown = sorted(set(crf_cfg) - set(DEEPLAB_V1_CRF))
    if unknown:
        raise ValueError(f'test_cfg.crf: unknown keys {unknown}; the keys are '
                       f'{sorted(DEEPLAB_V1_CRF)}')
    import_densecrf()


def dense_crf(image, probs, num_iters=10, pos_w=3, pos_xy_std=3, bi_w=4,
              bi_xy_std=121, bi_rgb_std=5):
    """Refine per-pixel class probabilities with a fully connected CRF.

    The unary energy is ``-log(probs)``; the pairwise terms are a Potts
    model over a Gaussian kernel on position (``pos_*``) and a bilateral
    kernel on position and colour (``bi_*``). Probabilities are clipped to
    float32's smallest normal number first: the PyTorch port takes the log
    of the softmax as is, which gives an infinite energy where it underflows
    to 0.

    Args:
        image (np.ndarray): (H, W, 3) uint8 image the probabilities refer
            to. The colour kernel is isotropic, so RGB and BGR give the same
            result.
        probs (np.ndarray): (C, H, W) class probabilities.
        num_iters (int): Mean-field iterations. Default: 10.
        pos_w (float): Weight of the smoothness kernel. Default: 3.
        pos_xy_std (float): Its spatial standard deviation (px). Default: 3.
        bi_w (float): Weight of the appearance kernel. Default: 4.
        bi_xy_std (float): Its spatial standard deviation (px). Default: 121.
        bi_rgb_std (float): Its colour standard deviation. Default: 5.

    Returns:
        np.ndarray: (C, H, W) float32 marginals after ``num_iters`` steps.
    """
    densecrf = import_densecrf()
    if probs.ndim != 3:
        raise ValueError(f'dense_crf: probs must be (C, H, W), got shape '
                         f'{probs.shape}')
    num_classes, height, width = probs.shape
    if image.shape != (height, width, 3) or image.dtype != np.uint8:
        raise ValueError(
            f'dense_crf: image must be uint8 of shape {(height, width, 3)} '
            f'to match probs, got {image.dtype} {image.shape}')
    unary = -np.log(np.clip(probs, np.finfo(np.float32).tiny, None))
    crf = densecrf.DenseCRF2D(width, height, num_classes)
    crf.setUnaryEnergy(
        np.ascontiguousarray(unary.reshape(num_classes, -1),
                             dtype=np.float32))
    crf.addPairwiseGaussian(sxy=pos_xy_std, compat=pos_w)
    crf.addPairwiseBilateral(
        sxy=bi_xy_std, srgb=bi_rgb_std, rgbim=np.ascontiguousarray(image),
        compat=bi_w)
    marginals = crf.inference(num_iters)
    return np.asarray(marginals, dtype=np.float32).reshape(
        num_classes, height, width)
