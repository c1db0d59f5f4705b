"""CPNet and SR-Net face configs: recipe, and tools/get_flops.py at 512x512
(CPNet's prior is sized for exactly that input)."""
import os.path as osp
import re

import pytest
from mmcv import Config

from mmseg_face.datasets import CelebAMaskHQDataset

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# config -> parameters at 19 classes, auxiliary head included (the
# official counts, see tests/test_models/test_cpnet.py and test_srnet.py).
CONFIGS = {
    'cpnet/cpnet_r50-d8_512x512_80k_celebamask-hq.py': 52_153_990,
    'srnet/srnet_r50-d8_512x512_80k_celebamask-hq.py': 29_812_342,
}


def config_path(name):
    return osp.join(REPO_ROOT, 'local_configs', name)


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_face_recipe(name):
    cfg = Config.fromfile(config_path(name))
    assert cfg.model.type == 'FaceEncoderDecoder'
    pairs = [tuple(p) for p in CelebAMaskHQDataset.FLIP_PAIRS]
    assert [tuple(p) for p in cfg.model.flip_pairs] == pairs
    flips = [t for t in cfg.data.train.pipeline if 'Flip' in t.type]
    assert [t.type for t in flips] == ['FaceRandomFlip']
    # Every training crop is padded to 512: CPNet's 64x64 prior fits.
    pad = [t for t in cfg.data.train.pipeline if t.type == 'Pad']
    assert pad[0].size == (512, 512)
    assert cfg.optimizer == dict(type='SGD', lr=0.01, momentum=0.9,
                                 weight_decay=0.0005)
    assert cfg.lr_config.policy == 'poly' and cfg.lr_config.power == 0.9
    assert cfg.runner.max_iters == 80000
    assert cfg.model.auxiliary_head.loss_decode.loss_weight == 0.4
    assert cfg.model.test_cfg.mode == 'whole'


def test_srnet_uses_ohem_on_both_heads_and_the_converted_backbone():
    cfg = Config.fromfile(
        config_path('srnet/srnet_r50-d8_512x512_80k_celebamask-hq.py'))
    for head in (cfg.model.decode_head, cfg.model.auxiliary_head):
        assert head.sampler == dict(type='OHEMPixelSampler', thresh=0.7,
                                    min_kept=10000)
        assert head.align_corners
    assert cfg.model.backbone.init_cfg.checkpoint.endswith(
        'resnet50_deepstem128_imagenet.pth')


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_get_flops_tool_at_512(name, run_tool):
    result = run_tool(['python', 'tools/get_flops.py', config_path(name),
                       '--shape', '512', '512'])
    assert result.returncode == 0, result.stderr[-3000:]
    assert f'Parameters: {CONFIGS[name]:,}' in result.stdout
    assert float(re.search(r'([\d.]+) GFLOPs', result.stdout).group(1)) > 100
