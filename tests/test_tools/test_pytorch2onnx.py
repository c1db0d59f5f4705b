"""tools/pytorch2onnx.py: export, metadata and onnxruntime parity."""
import json
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
import torch
from face_api_helpers import TINY_CONFIG, calibrate_batch_norms

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

TOOL = osp.join(REPO_ROOT, 'tools', 'pytorch2onnx.py')
FACE_MODELS = [
    'local_configs/ehanet/ehanet_r18_8xb2_512x512_200e_celebamask_hq.py',
    'local_configs/segnext/tiny/segnext_mscan-t_8x8_512x512_160k_'
    'celebamask-hq.py',
    'local_configs/parsenet/parsenet_1x8_512x512_80k_celebamask-hq.py',
    'local_configs/face_bisenet/face_bisenet_r18_8x2_448x448_80k_'
    'celebamask-hq.py',
]


def save_trained_like_checkpoint(config, path, shape, max_logit=10.0):
    """Random weights with the scale of a trained model's outputs.

    Untrained BN statistics let activations grow through deep residual
    stacks (ParseNet's logits reach ~1e5), where float32 rounding alone
    exceeds the 1e-4 tolerance. Estimating BN statistics on random inputs
    and scaling the classifier to logits of at most ``max_logit`` gives the
    magnitudes a trained parser has. No meta is saved, so the class names
    come from the config's dataset.
    """
    from mmcv.cnn.utils import revert_sync_batchnorm
    from mmcv.runner import save_checkpoint
    from mmseg.apis import init_segmentor

    torch.manual_seed(0)
    model = revert_sync_batchnorm(init_segmentor(config, device='cpu'))
    calibrate_batch_norms(model, torch.randn(2, 3, *shape))
    with torch.no_grad():
        logits = model.forward_dummy(torch.randn(2, 3, *shape))
        conv_seg = model.decode_head.conv_seg
        conv_seg = getattr(conv_seg, 'conv', conv_seg)
        scale = max_logit / logits.abs().max()
        conv_seg.weight.mul_(scale)
        conv_seg.bias.mul_(scale)
    save_checkpoint(model, path)
    return path



@pytest.fixture(scope='module')
def trained_like_checkpoint(tmp_path_factory):
    """The tiny parser with logits of a trained model's scale: its random
    classifier otherwise gives logits in the tens, where float32 rounding
    differences between onnxruntime and PyTorch approach 1e-4."""
    return save_trained_like_checkpoint(
        TINY_CONFIG, str(tmp_path_factory.mktemp('ckpt') / 'tiny.pth'),
        (48, 80))


def test_tool_exports_verified_dynamic_batch_logits(
        monkeypatch, capsys, tmp_path, trained_like_checkpoint):
    import onnx
    import onnxruntime
    from mmseg_face.apis import FaceParser

    output = str(tmp_path / 'tiny.onnx')
    monkeypatch.setattr(sys, 'argv', [
        TOOL, TINY_CONFIG, trained_like_checkpoint, '--shape', '48', '80',
        '--dynamic-batch', '--output-file', output, '--verify'
    ])
    runpy.run_path(TOOL, run_name='__main__')

    assert 'onnxruntime matches PyTorch' in capsys.readouterr().out
    meta = {p.key: p.value for p in onnx.load(output).metadata_props}
    assert json.loads(meta['classes'])[13] == 'hair'
    assert json.loads(meta['palette'])[1] == [204, 0, 0]
    assert json.loads(meta['mean']) == [123.675, 116.28, 103.53]
    # Independent parity check on a batch of 3 (the graph's batch is free).
    img = torch.rand(3, 3, 48, 80,
                     generator=torch.Generator().manual_seed(0)) * 4 - 2
    session = onnxruntime.InferenceSession(
        output, providers=['CPUExecutionProvider'])
    logits = session.run(['logits'], {'input': img.numpy()})[0]
    # The graph is traced from the model as built (no BN folding).
    model = FaceParser(
        TINY_CONFIG, trained_like_checkpoint, optimize=False).model
    with torch.no_grad():
        expected = model.forward_dummy(img).numpy()
    assert logits.shape == (3, 19, 48, 80)
    assert np.abs(logits - expected).max() <= 1e-4
    assert (logits.argmax(1) == expected.argmax(1)).mean() >= 0.999


def test_logits_equal_the_parser_labels_at_network_size(tmp_path,
                                                        tiny_checkpoint):
    """The exported logits are the mmseg test-time prediction before the
    resize back to the original image (input already at network size)."""
    import onnxruntime
    from mmseg_face.apis import FaceParser, export_onnx

    output = str(tmp_path / 'tiny.onnx')
    export_onnx(TINY_CONFIG, tiny_checkpoint, output, shape=(64, 64))
    parser = FaceParser(TINY_CONFIG, tiny_checkpoint)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (64, 64, 3)).astype(np.uint8)
    mean = np.array([123.675, 116.28, 103.53], np.float32)
    std = np.array([58.395, 57.12, 57.375], np.float32)
    normalised = (img[..., ::-1].astype(np.float32) - mean) / std
    tensor = normalised.transpose(2, 0, 1)[None].copy()
    session = onnxruntime.InferenceSession(
        output, providers=['CPUExecutionProvider'])
    labels = session.run(['logits'], {'input': tensor})[0].argmax(1)[0]
    assert (labels == parser.parse(img)).mean() >= 0.999


def test_verify_detects_a_mismatch(tmp_path, tiny_checkpoint):
    from mmseg_face.apis import OnnxMismatchError, export_onnx, verify_onnx

    output = str(tmp_path / 'tiny.onnx')
    parser = export_onnx(TINY_CONFIG, tiny_checkpoint, output, shape=(32, 32))
    with torch.no_grad():
        parser.model.decode_head.conv_seg.bias.add_(0.01)
    with pytest.raises(OnnxMismatchError, match='max'):
        verify_onnx(parser, output, (32, 32))


def test_syncbn_is_gone_from_the_exported_graph(tmp_path, tiny_checkpoint):
    import onnx
    from mmseg_face.apis import export_onnx

    output = str(tmp_path / 'tiny.onnx')
    export_onnx(TINY_CONFIG, tiny_checkpoint, output, shape=(32, 32))
    ops = {node.op_type for node in onnx.load(output).graph.node}
    assert 'Conv' in ops and 'Resize' in ops
    assert not any('Sync' in op for op in ops)


@pytest.mark.parametrize('config', FACE_MODELS,
                         ids=['ehanet_r18', 'segnext_t', 'parsenet',
                              'face_bisenet_r18'])
def test_face_models_export_and_match_pytorch(tmp_path, config):
    from mmseg_face.apis import export_onnx, verify_onnx

    shape = (64, 64)
    config = osp.join(REPO_ROOT, config)
    checkpoint = save_trained_like_checkpoint(config,
                                              str(tmp_path / 'model.pth'),
                                              shape)
    output = str(tmp_path / 'model.onnx')
    parser = export_onnx(config, checkpoint, output, shape=shape,
                         dynamic_batch=True)
    report = verify_onnx(parser, output, shape, batch_size=2)
    assert report['max_abs_diff'] <= 1e-4
    assert report['argmax_agreement'] >= 0.999
    assert parser.classes[-1] == 'cloth'  # CelebAMask-HQ, from the config
