"""Export a face parser to ONNX and check it against PyTorch in onnxruntime.

The exported graph maps a normalised image batch ``input`` of shape
``(N, 3, H, W)`` (float32, BGR->RGB conversion and ``img_norm_cfg``
mean/std already applied, exactly as the config's test pipeline does) to
``logits`` of shape ``(N, num_classes, H, W)``: the decode head's output
resized to the input resolution, before softmax/argmax. The class names,
palette and normalisation are stored in the model's metadata.
"""
import contextlib
import json
import logging
import os
import os.path as osp

import numpy as np
import torch
from torch import nn
from torch.onnx import _constants as onnx_constants

from mmseg_face.utils.atomic_io import temporary_path
from .face_parser import FaceParser

logger = logging.getLogger(__name__)

MAX_ABS_DIFF = 1e-4
MIN_ARGMAX_AGREEMENT = 0.999
# Opset 11 is the first whose Resize has the half-pixel coordinates of
# bilinear resizing with align_corners=False (older ones shift the logits);
# the newest is the one torch's TorchScript exporter knows.
MIN_OPSET = 11
MAX_OPSET = getattr(onnx_constants, 'ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET', 20)


class OnnxMismatchError(RuntimeError):
    """onnxruntime's outputs do not match PyTorch's."""


class OnnxExportError(ValueError):
    """The export cannot run with these settings."""


def check_export_settings(output_file, shape, opset_version):
    """Reject an unusable export before the model is built.

    Raises:
        OnnxExportError: If ``opset_version`` is outside
            ``[MIN_OPSET, MAX_OPSET]``, a side of ``shape`` is < 1, or the
            folder of ``output_file`` does not exist.
    """
    if not MIN_OPSET <= opset_version <= MAX_OPSET:
        raise OnnxExportError(
            f'opset {opset_version} is not supported: use {MIN_OPSET} to '
            f'{MAX_OPSET}')
    if len(shape) != 2 or min(shape) < 1:
        raise OnnxExportError(f'shape must be two sides >= 1, got {shape}')
    folder = osp.dirname(output_file) or '.'
    if not osp.isdir(folder):
        raise OnnxExportError(f'folder {folder} of the output file '
                              f'{output_file} does not exist')


class LogitsAtInputSize(nn.Module):
    """Wrap a segmentor so that ``forward(img)`` returns full-size logits.

    ``EncoderDecoder.forward_dummy`` is the head output resized to the
    input size, with no test-time resize back to an original shape, which is
    what a fixed-shape graph can hold.
    """

    def __init__(self, segmentor):
        super().__init__()
        self.segmentor = segmentor

    def forward(self, img):
        return self.segmentor.forward_dummy(img)


def _norm_cfg(cfg):
    for step in cfg.data.test.pipeline:
        if step.get('type') == 'Normalize':
            return step
        for inner in step.get('transforms', []):
            if inner.get('type') == 'Normalize':
                return inner
    raise ValueError('the test pipeline has no Normalize step')


def export_onnx(config,
                checkpoint,
                output_file,
                shape=(512, 512),
                dynamic_batch=False,
                opset_version=11):
    """Export a segmentor's logits to ONNX.

    Args:
        config (str | mmcv.Config): Model config.
        checkpoint (str, optional): Weights; None exports random weights.
        output_file (str): Path of the ``.onnx`` file.
        shape (tuple[int]): Input ``(H, W)``. Default: (512, 512).
        dynamic_batch (bool): Make the batch axis dynamic. Default: False.
        opset_version (int): ONNX opset. Default: 11.

    Returns:
        FaceParser: The PyTorch parser the graph was traced from (its model
        has SyncBN converted to BN), for :func:`verify_onnx`.
    """
    # Imported here: only export needs onnx, and it is slow to import.
    import onnx

    check_export_settings(output_file, shape, opset_version)
    # The graph is traced from the model as built; onnxruntime folds BN itself.
    parser = FaceParser(config, checkpoint, device='cpu', optimize=False)
    wrapper = LogitsAtInputSize(parser.model).eval()
    height, width = shape
    dummy = torch.zeros(1, 3, height, width)
    dynamic_axes = None
    if dynamic_batch:
        dynamic_axes = {'input': {0: 'batch'}, 'logits': {0: 'batch'}}
    # Written under a temporary name and renamed when complete, so that an
    # interrupted export never leaves a truncated model at output_file.
    temp_file = temporary_path(output_file)
    try:
        with torch.no_grad():
            torch.onnx.export(
                wrapper,
                dummy,
                temp_file,
                input_names=['input'],
                output_names=['logits'],
                dynamic_axes=dynamic_axes,
                opset_version=opset_version,
                do_constant_folding=True,
                dynamo=False)
        model = onnx.load(temp_file)
        onnx.checker.check_model(model)
        _add_metadata(model, parser)
        onnx.save(model, temp_file)
        os.replace(temp_file, output_file)
    except torch.onnx.errors.OnnxExporterError as error:
        raise OnnxExportError(
            f'cannot export {config} with opset {opset_version}: '
            f'{str(error).splitlines()[0]}') from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp_file)
    logger.info('exported %s with input (N, 3, %d, %d)', output_file, height,
                width)
    return parser


def _add_metadata(model, parser):
    """Class names, palette and normalisation, in the graph's metadata."""
    norm = _norm_cfg(parser.model.cfg)
    metadata = dict(
        classes=json.dumps(list(parser.classes)),
        palette=json.dumps(parser.palette.tolist()),
        mean=json.dumps(list(map(float, norm['mean']))),
        std=json.dumps(list(map(float, norm['std']))),
        to_rgb=json.dumps(bool(norm.get('to_rgb', True))))
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def verify_onnx(parser, onnx_file, shape, batch_size=1, seed=0):
    """Compare onnxruntime's logits with PyTorch's on a random input.

    Args:
        parser (FaceParser): The PyTorch model (as returned by
            :func:`export_onnx`).
        onnx_file (str): Exported model.
        shape (tuple[int]): Input ``(H, W)``.
        batch_size (int): Batch to test (use > 1 for a dynamic batch).
            Default: 1.
        seed (int): Seed of the random input. Default: 0.

    Returns:
        dict: ``max_abs_diff`` (logits), ``argmax_agreement`` (fraction of
        pixels whose predicted class matches) and ``max_abs_logit`` (the
        scale of PyTorch's logits).

    Raises:
        OnnxMismatchError: If the shapes differ, the logits differ by more
            than 1e-4, or fewer than 99.9% of the predicted classes match.
    """
    import onnxruntime  # only verification needs it

    generator = torch.Generator().manual_seed(seed)
    img = torch.randn(batch_size, 3, *shape, generator=generator)
    with torch.no_grad():
        expected = LogitsAtInputSize(parser.model).eval()(img).numpy()
    session = onnxruntime.InferenceSession(
        onnx_file, providers=['CPUExecutionProvider'])
    actual = session.run(['logits'], {'input': img.numpy()})[0]
    if actual.shape != expected.shape:
        raise OnnxMismatchError(f'ONNX logits have shape {actual.shape}, '
                             f'PyTorch {expected.shape}')
    report = dict(
        max_abs_logit=float(np.abs(expected).max()),
        max_abs_diff=float(np.abs(actual - expected).max()),
        argmax_agreement=float(
            (actual.argmax(1) == expected.argmax(1)).mean()))
    if report['max_abs_diff'] > MAX_ABS_DIFF or \
            report['argmax_agreement'] < MIN_ARGMAX_AGREEMENT:
        raise OnnxMismatchError(
            f'ONNX and PyTorch disagree: max |logit diff| '
            f'{report["max_abs_diff"]:.3g} (limit {MAX_ABS_DIFF}), argmax '
            f'agreement {report["argmax_agreement"]:.5f} (limit '
            f'{MIN_ARGMAX_AGREEMENT}); PyTorch logits reach '
            f'{report["max_abs_logit"]:.3g}, and float32 rounding alone '
            f'exceeds the limit for logits far above 100 (untrained '
            f'weights)')
    return report
