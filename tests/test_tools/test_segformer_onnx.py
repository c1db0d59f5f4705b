"""tools/pytorch2onnx.py exports the SegFormer face parser (a tiny MiT of
the same config; the fused attention is written out for the export)."""
import os.path as osp
import runpy
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO_ROOT, 'tools', 'pytorch2onnx.py')
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'segformer',
                  'segformer_mlp_mit-b5_8x2_512x512_160k_celebamask-hq.py')


def tiny_segformer_config(folder):
    """The B5 face parser's config with 8-channel, one-block stages."""
    path = folder / 'tiny_segformer.py'
    path.write_text(
        f'_base_ = [{CONFIG!r}]\n'
        'model = dict(\n'
        '    backbone=dict(embed_dims=8, num_layers=[1, 1, 1, 1]),\n'
        '    decode_head=dict(in_channels=[8, 16, 40, 64], channels=16))\n')
    return str(path)


@pytest.mark.parametrize('opset', [11, 17])
def test_tool_exports_a_verified_segformer(opset, monkeypatch, capsys,
                                           tmp_path):
    import onnx
    config = tiny_segformer_config(tmp_path)
    output = str(tmp_path / 'segformer.onnx')
    monkeypatch.setattr(sys, 'argv', [
        TOOL, config, '--shape', '64', '96', '--opset-version', str(opset),
        '--dynamic-batch', '--output-file', output, '--verify'
    ])
    runpy.run_path(TOOL, run_name='__main__')

    out = capsys.readouterr().out
    assert 'logits (N, 19, 64, 96)' in out
    assert 'onnxruntime matches PyTorch' in out
    ops = {node.op_type for node in onnx.load(output).graph.node}
    # Attention as matrix products and a softmax, in every opset.
    assert {'MatMul', 'Softmax', 'Resize', 'LayerNormalization'
            if opset >= 17 else 'ReduceMean'} <= ops
