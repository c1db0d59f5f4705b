"""optimize_for_inference: BN folding and channels-last on every model."""
import glob
import os.path as osp
import re

import pytest
import torch
import torch.nn as nn
from mmcv import Config

from mmseg_face.apis import InferenceOptimizationError, optimize_for_inference
from mmseg_face.utils.complexity import build_segmentor_from_config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def distinct_model_configs():
    """One config per network shipped in local_configs (the class count and
    the dataset do not change which layers follow which)."""
    chosen = {}
    pattern = osp.join(REPO_ROOT, 'local_configs', '**', '*.py')
    for path in sorted(glob.glob(pattern, recursive=True)):
        if '_base_' in path.split(osp.sep):
            continue
        model = re.sub(r"num_classes=\d+", '',
                       str(Config.fromfile(path).model))
        chosen.setdefault(model, osp.relpath(path, REPO_ROOT))
    return sorted(chosen.values())


def batch_norms(model):
    return [m for m in model.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def randomise_batch_norms(model, seed=0):
    """Statistics and affine parameters far from the identity, so that a BN
    folded into the wrong convolution changes the logits."""
    generator = torch.Generator().manual_seed(seed)
    for bn in batch_norms(model):
        size = bn.num_features
        bn.running_mean.copy_(torch.rand(size, generator=generator) - 0.5)
        bn.running_var.copy_(torch.rand(size, generator=generator) * 1.5 +
                             0.5)
        if bn.affine:
            bn.weight.data.copy_(torch.rand(size, generator=generator) + 0.5)
            bn.bias.data.copy_(torch.rand(size, generator=generator) - 0.5)


@pytest.mark.parametrize('config', distinct_model_configs())
def test_every_model_gives_the_same_logits_after_folding(config):
    model, _ = build_segmentor_from_config(osp.join(REPO_ROOT, config))
    with torch.no_grad():
        randomise_batch_norms(model)
    num_batch_norms = len(batch_norms(model))
    # CPNet's context prior fits one input size only.
    size = getattr(model.decode_head, 'required_input_size', (96, 64))
    img = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model.forward_dummy(img)

    optimized = optimize_for_inference(model)

    with torch.no_grad():
        logits = optimized.forward_dummy(img)
        unchanged = model.forward_dummy(img)
    # Checked at another size and batch than the function's own probe.
    assert (logits - expected).abs().max() <= 5e-4 * expected.abs().max()
    assert (logits.argmax(1) == expected.argmax(1)).float().mean() >= 0.999
    if num_batch_norms:  # DeepLab v1's VGG has none
        assert len(batch_norms(optimized)) < num_batch_norms
    convs = [m for m in optimized.modules() if isinstance(m, nn.Conv2d)]
    assert all(
        conv.weight.is_contiguous(memory_format=torch.channels_last)
        for conv in convs)
    if type(model.decode_head).__name__ in ('EHANetHead', 'EAGRHead'):
        # Every BN of EHANet and EAGR directly follows its convolution.
        assert not batch_norms(optimized)
    # The caller's model is left as it was.
    assert len(batch_norms(model)) == num_batch_norms
    torch.testing.assert_close(unchanged, expected, rtol=0, atol=0)


class BatchNormOnTheInput(nn.Module):
    """Registers a convolution and then a BN that normalises the image, not
    the convolution's output: folding the BN into the convolution is wrong."""

    def __init__(self, out_channels=3):
        super().__init__()
        self.conv = nn.Conv2d(3, out_channels, 1)
        self.bn = nn.BatchNorm2d(3)
        with torch.no_grad():
            self.bn.running_mean.fill_(0.5)
            self.bn.running_var.fill_(4.0)

    def forward_dummy(self, img):
        return self.conv(self.bn(img))


@pytest.mark.parametrize('out_channels', [3, 4])
def test_a_wrong_fold_is_an_error_not_wrong_predictions(out_channels):
    """3: the fold is computable but changes the logits (probe check);
    4: the BN does not even match the convolution's channels."""
    model = BatchNormOnTheInput(out_channels).eval()
    with pytest.raises(InferenceOptimizationError,
                       match=r'^BatchNormOnTheInput: .*fuse_bn=False'):
        optimize_for_inference(model)
    # Without folding it is fine (channels-last only).
    optimized = optimize_for_inference(model, fuse_bn=False)
    img = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(optimized.forward_dummy(img),
                                   model.forward_dummy(img))
    assert model.bn.running_var[0] == 4.0  # the caller's model is intact


def test_training_mode_is_rejected_and_nothing_to_do_is_a_no_op():
    model = BatchNormOnTheInput()
    with pytest.raises(ValueError, match='eval mode'):
        optimize_for_inference(model)
    model.eval()
    assert optimize_for_inference(
        model, fuse_bn=False, channels_last=False) is model
