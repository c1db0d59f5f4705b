"""RegSeg and SPNet face configs: recipe, size, one train/test step on
generated faces, and the FLOPs tool.

Models run at 32 px with SyncBN reverted to BN; no pretrained weight is
loaded (``init_weights`` is never called).
"""
import os.path as osp
import re

import pytest
import torch
from mmcv import Config
from mmcv.runner import build_optimizer
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg_face.datasets import CelebAMaskHQDataset, LaPaDataset
from mmseg_face.datasets.sample_faces import make_converted_sample
from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         complexity_report, count_parameters)
from small_configs import small_config, train_step_and_simple_test

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_ROOT = osp.join(REPO_ROOT, 'local_configs')
SIZE = 32

# config -> (dataset, decode head, parameters). The 19-class counts are
# the originals' (tests/test_models/test_regseg.py, test_spnet.py; SPNet's
# include its FCN auxiliary head); RegSeg on LaPa has 8 x (64 + 1) fewer
# classifier parameters for 11 classes.
CONFIGS = {
    'regseg/regseg_exp48_8x1_512x512_160k_celebamask-hq.py':
    (CelebAMaskHQDataset, 'RegSegHead', 3_334_951),
    'regseg/regseg_exp48_8x1_512x512_160k_lapa.py':
    (LaPaDataset, 'RegSegHead', 3_334_431),
    'spnet/spnet_r50-d8_512x512_80k_celebamask-hq.py':
    (CelebAMaskHQDataset, 'SPHead', 47_737_254),
    'spnet/spnet_r101-d8_512x512_80k_celebamask-hq.py':
    (CelebAMaskHQDataset, 'SPHead', 66_729_382),
}


def config_path(name):
    return osp.join(CONFIG_ROOT, name)


def test_every_config_file_is_listed():
    import mmcv
    found = {
        f'{folder}/{path}'
        for folder in ('regseg', 'spnet')
        for path in mmcv.scandir(osp.join(CONFIG_ROOT, folder), '.py')
    }
    assert found == set(CONFIGS)


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_face_recipe(name):
    dataset, head_type, _ = CONFIGS[name]
    cfg = Config.fromfile(config_path(name))
    assert cfg.model.type == 'FaceEncoderDecoder'
    assert cfg.dataset_type == dataset.__name__
    pairs = [tuple(p) for p in dataset.FLIP_PAIRS]
    assert [tuple(p) for p in cfg.model.flip_pairs] == pairs
    flips = [t for t in cfg.data.train.pipeline if 'Flip' in t.type]
    assert [t.type for t in flips] == ['FaceRandomFlip']
    assert [tuple(p) for p in flips[0].flip_pairs] == pairs
    assert cfg.crop_size == (512, 512)
    assert cfg.model.decode_head.type == head_type
    assert cfg.model.decode_head.num_classes == len(dataset.CLASSES)
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'
    assert cfg.optimizer.type == 'SGD' and cfg.optimizer.momentum == 0.9
    assert cfg.optimizer.weight_decay == 1e-4
    assert cfg.lr_config.policy == 'poly' and cfg.lr_config.power == 0.9
    assert cfg.lr_config.min_lr == 0


@pytest.mark.parametrize('name', [n for n in CONFIGS if 'regseg' in n])
def test_regseg_recipe(name):
    cfg = Config.fromfile(config_path(name))
    # batch 8 (8 GPUs x 1) at lr 0.05, from scratch, no auxiliary head.
    assert cfg.data.samples_per_gpu == 1
    assert cfg.optimizer.lr == 0.05
    assert cfg.optimizer.paramwise_cfg == dict(norm_decay_mult=0.0)
    assert (cfg.lr_config.warmup, cfg.lr_config.warmup_iters,
            cfg.lr_config.warmup_ratio) == ('linear', 3000, 0.1)
    assert cfg.runner.max_iters == 160000
    assert cfg.model.pretrained is None
    assert cfg.model.backbone.get('init_cfg') is None
    assert 'auxiliary_head' not in cfg.model
    assert cfg.model.decode_head.dropout_ratio == 0


def test_regseg_does_not_decay_norm_weights():
    name = 'regseg/regseg_exp48_8x1_512x512_160k_celebamask-hq.py'
    model, cfg = build_segmentor_from_config(config_path(name))
    optimizer = build_optimizer(model, cfg.optimizer)
    norm = {id(p) for m in model.modules()
            if isinstance(m, _BatchNorm) for p in m.parameters()}
    assert len(norm) == 2 * 64  # weight and bias of the 64 BNs
    decay = {group['weight_decay'] for group in optimizer.param_groups
             for p in group['params'] if id(p) in norm}
    other = {group['weight_decay'] for group in optimizer.param_groups
             for p in group['params'] if id(p) not in norm}
    assert decay == {0.0} and other == {1e-4}


@pytest.mark.parametrize('name', [n for n in CONFIGS if 'spnet' in n])
def test_spnet_recipe(name):
    cfg = Config.fromfile(config_path(name))
    depth = cfg.model.backbone.depth
    assert cfg.data.samples_per_gpu == 2 and cfg.optimizer.lr == 0.01
    assert cfg.runner.max_iters == 80000
    assert cfg.model.auxiliary_head.loss_decode.loss_weight == 0.4
    assert cfg.model.decode_head.align_corners
    assert cfg.model.auxiliary_head.align_corners
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained',
        checkpoint=f'pretrain/resnet{depth}_deepstem128_imagenet.pth')


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_parameter_count(name):
    model, _ = build_segmentor_from_config(config_path(name))
    assert count_parameters(model) == CONFIGS[name][2]


@pytest.fixture(scope='module')
def sample_roots(tmp_path_factory):
    base = str(tmp_path_factory.mktemp('regseg_spnet_samples'))
    return {
        dataset: make_converted_sample(dataset, base, 10, SIZE, seed=0)
        for dataset in ('celebamask_hq', 'lapa')
    }


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_one_training_iteration_and_simple_test(name, sample_roots):
    root = sample_roots['lapa' if 'lapa' in name else 'celebamask_hq']
    cfg = small_config(config_path(name), root, SIZE)
    run = train_step_and_simple_test(cfg)
    result, label = run['result'], run['label']
    assert run['img_shape'] == (2, 3, SIZE, SIZE)
    assert torch.isfinite(run['loss']) and run['loss'] > 0
    assert run['changed'] > 0.5
    assert len(result) == 1 and result[0].shape == label.shape
    assert 0 <= result[0].min() and result[0].max() < \
        cfg.model.decode_head.num_classes


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_complexity_report(name):
    """What tools/get_flops.py prints, computed in-process at 64 px."""
    report = complexity_report(config_path(name), (64, 64))
    params = int(re.search(r'Parameters: ([\d,]+)', report).group(1)
                 .replace(',', ''))
    assert params == CONFIGS[name][2]
    assert float(re.search(r'([\d.]+) GFLOPs', report).group(1)) > 0
    assert float(re.search(r'([\d.]+) GMACs', report).group(1)) > 0


def test_get_flops_tool_runs_on_regseg_at_512(run_tool):
    name = 'regseg/regseg_exp48_8x1_512x512_160k_celebamask-hq.py'
    result = run_tool(['python', 'tools/get_flops.py', config_path(name),
                       '--shape', '512', '512'])
    assert result.returncode == 0, result.stderr[-3000:]
    assert f'Parameters: {CONFIGS[name][2]:,}' in result.stdout
