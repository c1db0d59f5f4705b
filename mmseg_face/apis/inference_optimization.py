"""Faster CPU/GPU inference of a trained segmentor, checked on a probe image.

Two rewrites that leave the predictions unchanged up to float rounding:

- BatchNorm folding with mmcv's ``fuse_conv_bn``: in eval mode a BN layer is
  an affine map per channel, which can be merged into the weights and bias of
  the convolution before it, saving one pass over every feature map.
- Channels-last memory format: oneDNN (CPU) and cuDNN convolutions run
  faster on NHWC tensors; the first convolution turns the NCHW input into
  NHWC, so callers keep passing ordinary tensors.

``docs/benchmarks.md`` has the speed-ups (``bench/bench_vs_original.py``).
"""
import copy

import torch
from mmcv.cnn import fuse_conv_bn


class InferenceOptimizationError(RuntimeError):
    """The optimised model does not reproduce the original's logits."""


def _probe_logits(model, probe):
    with torch.no_grad():
        return model.forward_dummy(probe)


def optimize_for_inference(model,
                           fuse_bn=True,
                           channels_last=True,
                           probe_size=None,
                           rtol=1e-3,
                           inplace=False):
    """Return ``model`` rewritten for inference, by default as a copy.

    ``fuse_conv_bn`` folds each BN into the convolution registered just
    before it in the same parent module. That is the order of every model in
    mmseg and in this package (conv, then the BN applied to its output), but
    a custom module could register a convolution and then a BN that
    normalises something else. So the copy is compared with the original on
    a random probe image, and a mismatch is an error rather than silently
    wrong predictions.

    Args:
        model (nn.Module): Segmentor in eval mode with mmseg's
            ``forward_dummy`` (image batch in, logits out).
        fuse_bn (bool): Fold BatchNorm into the preceding convolutions.
            Default: True.
        channels_last (bool): Convert 4-D weights to channels-last.
            Default: True.
        probe_size (tuple[int, int], optional): Height and width of the
            probe image. Default: None, (64, 64) unless the decode head
            accepts only one input size (its ``required_input_size``, e.g.
            CPNet's context prior).
        rtol (float): Largest allowed difference between the probe logits of
            the copy and of the original, relative to the largest original
            logit. Default: 1e-3.
        inplace (bool): Rewrite ``model`` itself instead of a copy, for
            callers that drop the original (no second set of weights in
            memory); after an error it is left half rewritten.
            Default: False.

    Returns:
        nn.Module: The optimised model, in eval mode; unless ``inplace``,
        ``model`` is unchanged. It is for inference only: training it would
        train the folded convolutions without BatchNorm.

    Raises:
        ValueError: If ``model`` is in training mode (BN would use batch
            statistics, so folding the running statistics changes it).
        InferenceOptimizationError: If the copy's probe logits differ.
    """
    if model.training:
        raise ValueError('optimize_for_inference needs a model in eval mode '
                         '(call model.eval() first)')
    if not (fuse_bn or channels_last):
        return model
    device = next(model.parameters()).device
    if probe_size is None:
        probe_size = getattr(getattr(model, 'decode_head', None),
                             'required_input_size', (64, 64))
    generator = torch.Generator().manual_seed(0)
    probe = torch.randn(1, 3, *probe_size, generator=generator).to(device)
    reference = _probe_logits(model, probe)

    wrong_pair = (f'{type(model).__name__}: a BatchNorm layer is registered '
                  'after a convolution whose output it does not normalise, '
                  'so it cannot be folded; use fuse_bn=False for this model')
    optimized = model if inplace else copy.deepcopy(model)
    if fuse_bn:
        try:
            optimized = fuse_conv_bn(optimized)
        except RuntimeError as error:  # channel counts of the pair differ
            raise InferenceOptimizationError(
                f'{wrong_pair} ({error})') from error
    if channels_last:
        optimized = optimized.to(memory_format=torch.channels_last)
    difference = (_probe_logits(optimized, probe) - reference).abs().max()
    tolerance = rtol * reference.abs().max()
    # ``not <=`` so that NaN logits fail too.
    if not difference <= tolerance:
        raise InferenceOptimizationError(
            f'{wrong_pair} (the logits of a probe image changed by up to '
            f'{difference.item():.3g}, allowed {tolerance.item():.3g})')
    return optimized
