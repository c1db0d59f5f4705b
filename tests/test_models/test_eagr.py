"""EAGR against tegusi/EAGRNet's EAGRNet (models.md §3)."""
import os.path as osp
import re
import sys

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         complexity_report, count_parameters)
from conv_macs import conv_macs_hooks

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'eagr',
                  'eagr_r101_8xb7_473x473_200e_{}.py')


def build(dataset):
    model, _ = build_segmentor_from_config(CONFIG.format(dataset))
    return model


@pytest.fixture(scope='module')
def helen():
    return build('helen')


def test_parameter_counts_match_original(helen):
    assert count_parameters(helen) == 66_722_523
    assert count_parameters(helen.backbone) == 42_623_936
    head = helen.decode_head
    psp = count_parameters(head.psp_modules) + count_parameters(
        head.psp_bottleneck)
    assert psp == 23_073_792
    assert count_parameters(head.edge_module) == 464_912
    assert count_parameters(head.context_graph) == 214_544
    assert count_parameters(head.skip_graph) == 54_160
    decoder = sum(
        count_parameters(m) for m in (head.context_project, head.skip_project,
                                      head.fuse, head.conv_seg))
    assert decoder == 291_179
    # The head is InPlace-ABN's BN + LeakyReLU(0.01).
    assert any(
        isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.01
        for m in head.modules())


@torch.no_grad()
def test_forward_at_473_stride_4_and_full_size_prediction(helen):
    img = torch.randn(1, 3, 473, 473)
    macs = []
    hooks = conv_macs_hooks(helen, macs)
    seg, edge = helen.decode_head(helen.extract_feat(img))
    for handle in hooks:
        handle.remove()
    assert seg.shape == (1, 11, 119, 119)
    assert edge.shape == (1, 2, 119, 119)
    # Conv-only GMACs at 473x473 in models.md §3.2: about 236.3.
    assert sum(macs) / 1e9 == pytest.approx(236.3, abs=0.1)

    shape = (473, 473, 3)
    metas = [dict(ori_shape=shape, img_shape=shape, pad_shape=shape,
                  flip=False)]
    pred = helen.simple_test(img, metas, rescale=True)
    assert pred[0].shape == (473, 473)
    expected = F.interpolate(
        seg, (473, 473), mode='bilinear', align_corners=True).argmax(1)[0]
    assert (torch.from_numpy(pred[0]) == expected).float().mean() > 0.999


def test_edge_prior_is_detached_from_the_parsing_branch(helen):
    helen.train()
    feats = helen.extract_feat(torch.randn(2, 3, 64, 64))
    seg, edge = helen.decode_head(feats)
    seg.sum().backward()
    fuse = helen.decode_head.edge_module.fuse.weight
    # Parsing gradients reach the graph blocks but not the edge module.
    assert fuse.grad is None
    assert helen.decode_head.context_graph.conv_proj.weight.grad.abs().sum(
    ) > 0
    helen.zero_grad(set_to_none=True)
    helen.eval()


def test_get_flops_tool_runs_on_eagr(run_tool):
    result = run_tool([
        sys.executable, 'tools/get_flops.py',
        CONFIG.format('helen'), '--shape', '64', '64'
    ])
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'Parameters: 66,722,523' in result.stdout
    assert re.search(r'[\d.]+ GMACs', result.stdout)


@pytest.mark.parametrize('dataset,expected', [('celebamask_hq', 66_724_579),
                                              ('lapa', 66_722_523)])
def test_complexity_report_of_other_configs(dataset, expected):
    report = complexity_report(CONFIG.format(dataset), (32, 32))
    assert f'Parameters: {expected:,}' in report
