"""LightHamHead / NMF2D: sizes, determinism, inv_t, ham_kwargs, export."""
import warnings

import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from mmseg.models.builder import HEADS, build_head

from mmseg_face.models.decode_heads import LightHamHead
from mmseg_face.models.decode_heads.light_ham_head import (NMF2D,
                                                           parse_ham_kwargs)
from mmseg_face.utils.complexity import count_parameters

GN = dict(type='GN', num_groups=32, requires_grad=True)


def tiny_head(**kwargs):
    cfg = dict(type='LightHamHead', in_channels=[64, 160, 256],
               in_index=[1, 2, 3], channels=256, ham_channels=256,
               ham_kwargs=dict(MD_R=16), num_classes=19, norm_cfg=GN)
    cfg.update(kwargs)
    return build_head(cfg)


def mscan_t_features(batch=2, size=64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [
        torch.randn(batch, c, size // s, size // s, generator=generator)
        for c, s in ((32, 4), (64, 8), (160, 16), (256, 32))
    ]


def test_registered_and_sized_like_the_original():
    assert HEADS.get('LightHamHead') is LightHamHead
    head = tiny_head()
    # squeeze 480->256 + GN, ham_in 256->256 (bias), ham_out 256->256 + GN,
    # align 256->256 + GN, conv_seg 256->19: 4,229,747 - 3,903,584.
    assert count_parameters(head) == 326_163
    assert head.hamburger.ham_in.conv.bias is not None
    assert head.hamburger.ham_out.conv.bias is None
    assert head.hamburger.ham.md_r == 16
    # The eval bases travel with checkpoints (a buffer, not a parameter).
    assert head.state_dict()['hamburger.ham.fixed_bases'].shape == (1, 256,
                                                                    16)


def test_logits_at_stride_8():
    head = tiny_head().eval()
    assert head(mscan_t_features(size=64)).shape == (2, 19, 8, 8)
    assert head(mscan_t_features(batch=1, size=96)).shape == (1, 19, 12, 12)


def test_eval_is_deterministic_on_cpu():
    head = tiny_head().eval()
    feats = mscan_t_features()
    torch.manual_seed(1)
    first = head(feats)
    torch.manual_seed(2)  # global RNG state must not matter in eval
    second = head(feats)
    assert first.device.type == 'cpu'
    assert torch.equal(first, second)
    # A freshly built head has the same fixed bases (seeded, not random).
    assert torch.equal(head.hamburger.ham.fixed_bases,
                       tiny_head().hamburger.ham.fixed_bases)


def test_training_draws_random_bases_unless_rand_init_is_off():
    x = torch.rand(2, 32, 4, 4)
    nmf = NMF2D(32, md_r=4).train()
    assert not torch.equal(nmf(x), nmf(x))
    fixed = NMF2D(32, md_r=4, rand_init=False).train()
    assert torch.equal(fixed(x), fixed(x))


def expected_zero_step_nmf(x, bases, inv_t, eps=1e-6):
    """NMF with no update loop: softmax init, then one coefficient update."""
    flat = x.flatten(2)  # (B, D, N)
    bases = bases.expand(x.shape[0], -1, -1)
    similarity = flat.transpose(1, 2) @ bases
    coef = torch.softmax(inv_t * similarity, dim=-1)
    coef = coef * similarity / (coef @ (bases.transpose(1, 2) @ bases) + eps)
    return (bases @ coef.transpose(1, 2)).view_as(x)


@pytest.mark.parametrize('inv_t', [1, 100])
def test_inv_t_is_honoured(inv_t):
    x = torch.rand(2, 16, 3, 5)
    nmf = NMF2D(16, md_r=4, eval_steps=0, inv_t=inv_t).eval()
    assert nmf.inv_t == inv_t
    expected = expected_zero_step_nmf(x, nmf.fixed_bases, inv_t)
    assert torch.allclose(nmf(x), expected, rtol=1e-5, atol=1e-6)
    other = NMF2D(16, md_r=4, eval_steps=0, inv_t=101 - inv_t).eval()
    assert not torch.allclose(other(x), expected, rtol=1e-3)


def test_reconstruction_improves_with_steps():
    # A rank-2 non-negative matrix is recovered better after more updates.
    torch.manual_seed(0)
    x = (torch.rand(1, 8, 2) @ torch.rand(1, 2, 36)).view(1, 8, 6, 6)
    errors = [
        (NMF2D(8, md_r=2, eval_steps=steps).eval()(x) - x).norm().item()
        for steps in (0, 100)
    ]
    assert errors[1] < 0.2 * errors[0]


def test_ham_kwargs_upper_and_lower_case():
    upper = parse_ham_kwargs(
        dict(SPATIAL=True, MD_S=2, MD_D=128, MD_R=8, TRAIN_STEPS=3,
             EVAL_STEPS=4, INV_T=10, RAND_INIT=False), ham_channels=256)
    lower = parse_ham_kwargs(
        dict(MD_S=2, md_r=8, train_steps=3, eval_steps=4, inv_t=10,
             rand_init=False), ham_channels=256)
    assert upper == lower == dict(md_s=2, md_r=8, train_steps=3,
                                  eval_steps=4, inv_t=10, rand_init=False)
    defaults = parse_ham_kwargs({}, ham_channels=64)
    assert defaults == dict(md_s=1, md_r=64, train_steps=6, eval_steps=7,
                            inv_t=1, rand_init=True)
    head = tiny_head(ham_kwargs=dict(inv_t=100, MD_S=2))
    assert head.hamburger.ham.inv_t == 100
    assert head.hamburger.ham.fixed_bases.shape == (2, 128, 64)
    assert head.eval()(mscan_t_features()).shape == (2, 19, 8, 8)


@pytest.mark.parametrize('ham_kwargs,message', [
    (dict(MD_RANK=16), "Unknown ham_kwargs key 'MD_RANK'"),
    (dict(MD_R=16, md_r=8), 'sets MD_R twice'),
    (dict(ETA=0.9), 'has no effect'),
    (dict(MD_D=512), 'MD_D=512 contradicts'),
    (dict(MD_S=3), 'MD_S=3 must be a positive divisor'),
    (dict(SPATIAL=False), 'SPATIAL=False'),
    (dict(EVAL_STEPS=-1), 'EVAL_STEPS=-1'),
    (dict(RAND_INIT='yes'), 'RAND_INIT'),
])
def test_bad_ham_kwargs_raise(ham_kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiny_head(ham_kwargs=ham_kwargs)


def test_follows_device_and_dtype_of_the_input():
    head = tiny_head().eval().double()
    out = head([f.double() for f in mscan_t_features()])
    assert out.dtype == torch.float64
    assert head.hamburger.ham.fixed_bases.dtype == torch.float64


def test_eval_path_traces_without_random_ops_or_branches():
    nmf = NMF2D(32, md_r=4).eval()
    with warnings.catch_warnings():
        warnings.simplefilter('error', torch.jit.TracerWarning)
        traced = torch.jit.trace(nmf, torch.rand(1, 32, 4, 4))
    graph = str(traced.inlined_graph)
    assert 'aten::rand' not in graph
    x = torch.rand(3, 32, 5, 7)  # another batch and size: no baked shapes
    assert torch.equal(traced(x), nmf(x))


def test_gradients_flow_through_the_decomposition():
    head = tiny_head().train()
    feats = [f.requires_grad_() for f in mscan_t_features()]
    loss = F.cross_entropy(head(feats), torch.zeros(2, 8, 8,
                                                    dtype=torch.long))
    loss.backward()
    assert head.hamburger.ham_in.conv.weight.grad.abs().sum() > 0
    assert feats[3].grad.abs().sum() > 0


class SelectedStages(torch.nn.Module):
    """The head with the three stages it reads as separate inputs."""

    def __init__(self, head):
        super().__init__()
        self.head = head

    def forward(self, stage2, stage3, stage4):
        return self.head([stage2, stage2, stage3, stage4])


def test_onnx_export_matches_at_eval(tmp_path):
    model = SelectedStages(tiny_head()).eval()
    feats = mscan_t_features()[1:]
    names = ['stage2', 'stage3', 'stage4']
    path = str(tmp_path / 'light_ham_head.onnx')
    torch.onnx.export(
        model, tuple(feats), path, dynamo=False, opset_version=13,
        input_names=names, output_names=['logits'],
        dynamic_axes={name: {0: 'batch'} for name in names})
    session = ort.InferenceSession(path)
    # Another batch size than at export: the batch is not baked in.
    feats = mscan_t_features(batch=3, seed=1)[1:]
    (logits, ) = session.run(
        None, {name: f.numpy() for name, f in zip(names, feats)})
    with torch.no_grad():
        expected = model(*feats).numpy()
    assert logits.shape == (3, 19, 8, 8)
    assert np.abs(logits - expected).max() < 1e-4
