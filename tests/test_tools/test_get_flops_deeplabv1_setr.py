"""tools/get_flops.py on the DeepLab v1 and SETR face configs.

DeepLab v1 runs on its real config at 512x512. SETR's real ViT-L costs
hundreds of GMACs at 512x512 (too slow for CPU CI; run by hand, numbers in
the model zoo), so its tool runs use a ViT shrunk to 4 layers of width 64
at 64x64.
"""
import os.path as osp
import re

import pytest

from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         count_parameters)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_ROOT = osp.join(REPO_ROOT, 'local_configs')
DEEPLAB = 'deeplabv1/deeplabv1_vgg16-largefov_8x2_512x512_80k_celebamask-hq.py'
SETR_PUP = 'setr/setr_vit-l16_pup_8x2_512x512_160k_celebamask-hq.py'
SETR_MLA = 'setr/setr_vit-l16_mla_8x2_512x512_160k_celebamask-hq.py'
SMALL_VIT = dict(img_size=(64, 64), embed_dims=64, num_layers=4,
                 num_heads=4, out_indices=(0, 1, 2, 3))


def path(name):
    return osp.join(CONFIG_ROOT, name)


def small_setr_options(name):
    """Overrides giving SETR a 4-layer, 64-wide ViT (dotted keys)."""
    options = {f'model.backbone.{key}': value
               for key, value in SMALL_VIT.items()}
    if name == SETR_PUP:
        options['model.decode_head.in_channels'] = 64
        options.update({f'model.auxiliary_head.{i}.in_channels': 64
                        for i in range(3)})
    else:
        options['model.neck.in_channels'] = [64] * 4
    return options


def flops_report(run_tool, name, shape, options=()):
    result = run_tool(['python', 'tools/get_flops.py', path(name), '--shape',
                       str(shape[0]), str(shape[1])] +
                      (['--cfg-options', *options] if options else []))
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    params = int(re.search(r'Parameters: ([\d,]+)', out).group(1).replace(
        ',', ''))
    gflops = float(re.search(r'([\d.]+) GFLOPs', out).group(1))
    gmacs = float(re.search(r'([\d.]+) GMACs', out).group(1))
    return params, gflops, gmacs


def test_get_flops_on_deeplabv1_at_512(run_tool):
    """The tool counts the 13 VGG convolutions and fc6-fc8 of the real
    config: 125.6 G multiply-adds at 512x512 (survey measurement)."""
    params, gflops, gmacs = flops_report(run_tool, DEEPLAB, (512, 512))
    assert params == 20_503_379
    assert gflops == pytest.approx(125.6, rel=0.01)
    assert gmacs == pytest.approx(125.6, rel=0.01)


@pytest.mark.parametrize('name', [SETR_PUP, SETR_MLA])
def test_get_flops_on_small_setr(run_tool, name):
    overrides = small_setr_options(name)
    options = [f'{key}={value}'.replace(' ', '')
               for key, value in overrides.items()]
    params, gflops, gmacs = flops_report(run_tool, name, (64, 64), options)
    model, _ = build_segmentor_from_config(path(name), overrides)
    assert params == count_parameters(model)
    assert gflops > 0 and gmacs > 0
