"""EHANet-R18/R34 against FaceParsing's FaceParseNet18/34 (models.md §2)."""
import os.path as osp
import re
import sys

import pytest
import torch
import torch.nn.functional as F

from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         complexity_report, count_parameters)
from conv_macs import conv_macs_hooks

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'local_configs', 'ehanet')
R18 = 'ehanet_r18_8xb2_512x512_200e_{}.py'
R34 = 'ehanet_r34_8xb2_512x512_200e_{}.py'


def build(name, dataset):
    model, _ = build_segmentor_from_config(
        osp.join(CONFIG_DIR, name.format(dataset)))
    return model


@pytest.fixture(scope='module')
def r18():
    return build(R18, 'celebamask_hq')


@pytest.mark.parametrize('name,expected', [(R18, 11_807_784),
                                           (R34, 21_915_944)])
def test_parameter_count_matches_original(name, expected):
    model = build(name, 'celebamask_hq')
    assert count_parameters(model) == expected
    assert count_parameters(model.decode_head) == 631_272
    assert model.decode_head.num_classes == 19


def test_eleven_class_configs_only_change_the_classifiers():
    # 8 classes fewer: 8 * (256 + 1) + 8 * (512 + 1) parameters fewer.
    for dataset in ('helen', 'lapa'):
        assert count_parameters(build(R18, dataset)) == \
            11_807_784 - 8 * 257 - 8 * 513


def test_head_modules_match_original_sizes(r18):
    head = r18.decode_head
    assert [count_parameters(m) for m in head.scams] == [
        33_280, 49_664, 82_432, 147_968
    ]
    assert [count_parameters(m) for m in head.sgcbs] == [90_496] * 3
    # Dilations per level, shallowest (largest map) first, as the original.
    dilations = [[branch[0].conv.dilation[0] for branch in sgcb.branches]
                 for sgcb in head.sgcbs]
    assert dilations == [[7, 9, 13], [3, 6, 9], [1, 2, 4]]
    boundary = count_parameters(head.boundary) + count_parameters(
        head.conv_edge)
    assert boundary == 31_810
    assert count_parameters(head.conv_seg_aux) == 4_883
    assert count_parameters(head.conv_seg) == 9_747


@torch.no_grad()
def test_forward_at_512_stride_4_and_full_size_prediction(r18):
    img = torch.randn(1, 3, 512, 512)
    macs = []
    hooks = conv_macs_hooks(r18, macs)
    seg, aux, edge = r18.decode_head(r18.extract_feat(img))
    for hook in hooks:
        hook.remove()
    assert seg.shape == (1, 19, 128, 128)
    assert aux.shape == (1, 19, 128, 128)
    assert edge.shape == (1, 2, 128, 128)
    # Conv-only GMACs at 512x512 in models.md §2.3: 12.45.
    assert sum(macs) / 1e9 == pytest.approx(12.45, abs=0.005)

    metas = [
        dict(
            ori_shape=(1024, 1024, 3),
            img_shape=(512, 512, 3),
            pad_shape=(512, 512, 3),
            flip=False)
    ]
    pred = r18.simple_test(img, metas, rescale=True)
    assert pred[0].shape == (1024, 1024)
    # The prediction is the final classifier's, not the auxiliary one's.
    expected = F.interpolate(
        F.interpolate(seg, (512, 512), mode='bilinear', align_corners=True),
        (1024, 1024),
        mode='bilinear',
        align_corners=True).argmax(1)[0]
    assert (torch.from_numpy(pred[0]) == expected).float().mean() > 0.999


def test_get_flops_tool_r18_at_256(run_tool):
    config = osp.join(CONFIG_DIR, R18.format('celebamask_hq'))
    result = run_tool(
        [sys.executable, 'tools/get_flops.py', config, '--shape', '256'])
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'Parameters: 11,807,784' in result.stdout
    gflops = float(
        re.search(r'mmcv counter.*?: ([\d.]+) GFLOPs', result.stdout).group(1))
    # Conv-only 3.11 GMACs at 256x256 (models.md; 12.45 at 512x512, checked
    # in the forward test); mmcv also counts BN, ReLU, pooling and
    # upsampling, which add a few percent.
    assert 3.11 < gflops < 3.11 * 1.06


@pytest.mark.parametrize('name', [R18, R34])
@pytest.mark.parametrize('dataset', ['celebamask_hq', 'helen', 'lapa'])
def test_complexity_report_of_every_config(name, dataset):
    report = complexity_report(
        osp.join(CONFIG_DIR, name.format(dataset)), (32, 32))
    base = 11_807_784 if name == R18 else 21_915_944
    classes = 19 if dataset == 'celebamask_hq' else 11
    expected = base - (19 - classes) * (257 + 513)
    assert f'Parameters: {expected:,}' in report
    assert re.search(r'GMACs', report)
