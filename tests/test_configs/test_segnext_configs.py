"""SegNeXt face configs: recipe, published sizes, one train/test step, tools.

Every config runs on generated faces at 64 px with SyncBN reverted to BN;
no pretrained weight is loaded (``init_weights`` is never called).
"""
import os.path as osp
import re

import mmcv
import numpy as np
import pytest
import torch
from mmcv import Config
from mmseg.datasets.builder import DATASETS

from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         complexity, complexity_report,
                                         count_parameters)
from small_configs import (small_config, small_data_options,
                           train_losses, train_step_and_simple_test)

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'local_configs', 'segnext')
SIZE = 64

# Published 19-class sizes (models.md §5.1); an 11-class head has
# 8 * (channels + 1) parameters fewer (channels = 256 for T and S).
CONFIGS = {
    'tiny/segnext_mscan-t_8x8_512x512_160k_celebamask-hq.py':
    ('t', 'celebamask_hq', 8, 4_229_747),
    'small/segnext_mscan-s_8x8_512x512_160k_celebamask-hq.py':
    ('s', 'celebamask_hq', 8, 13_899_219),
    'base/segnext_mscan-b_8x6_512x512_160k_celebamask-hq.py':
    ('b', 'celebamask_hq', 6, 27_569_107),
    'large/segnext_mscan-l_8x4_512x512_160k_celebamask-hq.py':
    ('l', 'celebamask_hq', 4, 48_792_275),
    'tiny/segnext_mscan-t_8x8_512x512_160k_helen.py':
    ('t', 'helen', 8, 4_229_747 - 8 * 257),
    'tiny/segnext_mscan-t_8x8_512x512_160k_lapa.py':
    ('t', 'lapa', 8, 4_229_747 - 8 * 257),
    'small/segnext_mscan-s_8x8_512x512_160k_helen.py':
    ('s', 'helen', 8, 13_899_219 - 8 * 257),
    'small/segnext_mscan-s_8x8_512x512_160k_lapa.py':
    ('s', 'lapa', 8, 13_899_219 - 8 * 257),
}
NUM_CLASSES = dict(celebamask_hq=19, helen=11, lapa=11)
TINY = 'tiny/segnext_mscan-t_8x8_512x512_160k_celebamask-hq.py'


def config_path(name):
    return osp.join(CONFIG_DIR, name)


def test_every_config_file_is_listed():
    """The SegNeXt-FaceParser inference configs are tested with their
    converter (tests/test_models/test_segnext_faceparser_converter.py)."""
    from mmseg_face.utils.segnext_converter import SEGNEXT_FACEPARSER_CONFIGS
    found = set(mmcv.scandir(CONFIG_DIR, '.py', recursive=True))
    face_parser = {
        osp.relpath(path, 'local_configs/segnext')
        for path in SEGNEXT_FACEPARSER_CONFIGS.values()
    }
    assert found == set(CONFIGS) | face_parser


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_recipe(name):
    arch, dataset, batch, _ = CONFIGS[name]
    cfg = Config.fromfile(config_path(name))
    model = cfg.model
    assert model.type == 'FaceEncoderDecoder'
    flip_pairs = DATASETS.get(cfg.dataset_type).FLIP_PAIRS
    assert [tuple(p) for p in model.flip_pairs] == [tuple(p)
                                                    for p in flip_pairs]
    flips = [t for t in cfg.data.train.pipeline if 'Flip' in t.type]
    assert [t.type for t in flips] == ['FaceRandomFlip']
    assert [tuple(p) for p in flips[0].flip_pairs] == [tuple(p)
                                                       for p in flip_pairs]
    assert model.backbone.type == 'MSCAN' and model.backbone.arch == arch
    assert model.backbone.norm_cfg.type == 'SyncBN'
    assert model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint=f'pretrained/mscan_{arch}.pth')
    assert model.decode_head.num_classes == NUM_CLASSES[dataset]
    assert cfg.crop_size == (512, 512)
    assert cfg.data.samples_per_gpu == batch

    assert cfg.optimizer == dict(
        type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01,
        paramwise_cfg=dict(custom_keys=dict(
            head=dict(lr_mult=10.0), norm=dict(decay_mult=0.0))))
    assert cfg.lr_config == dict(
        policy='poly', power=1.0, min_lr=0.0, by_epoch=False,
        warmup='linear', warmup_iters=1500, warmup_ratio=1e-6)
    assert cfg.runner == dict(type='IterBasedRunner', max_iters=160000)
    assert cfg.evaluation.interval == 10000
    assert cfg.evaluation.save_best == 'mIoU'
    assert cfg.checkpoint_config.interval == 10000
    assert 'mmseg_face' in cfg.custom_imports.imports


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_published_parameter_count(name):
    model, _ = build_segmentor_from_config(config_path(name))
    assert count_parameters(model) == CONFIGS[name][3]






@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_one_training_iteration_and_simple_test(name, sample_root):
    arch, dataset, _, _ = CONFIGS[name]
    cfg = small_config(config_path(name), sample_root(dataset), SIZE)
    run = train_step_and_simple_test(cfg)
    model, result, label = run['model'], run['result'], run['label']
    assert run['img_shape'] == (2, 3, SIZE, SIZE)
    assert torch.isfinite(run['loss'])
    assert run['changed'] > 0.5  # the classifier and most layers moved
    assert len(result) == 1 and result[0].shape == label.shape
    assert result[0].max() < NUM_CLASSES[dataset]

    # What tools/get_flops.py computes, on the model already built.
    figures = complexity(model, (SIZE, SIZE))
    assert figures['params'] == CONFIGS[name][3]
    assert figures['mmcv_flops'] > 0 and figures['torchprofile_macs'] > 0


def test_macs_at_512_match_the_published_figure():
    # README: "7G FLOPs" for MSCAN-T at 512x512, torchprofile MACs rounded
    # up (S/B/L measure 15.6/34.5/69.3 against 16/35/70).
    report = complexity_report(config_path(TINY), (512, 512))
    macs = float(re.search(r'MACs .*: ([\d.]+) GMACs', report).group(1))
    assert 6.0 < macs <= 7.0


def test_get_flops_tool_runs_on_segnext(run_tool):
    result = run_tool(['python', 'tools/get_flops.py', config_path(TINY),
                       '--shape', str(SIZE), str(SIZE)])
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'Parameters: 4,229,747' in result.stdout


def test_dist_train_and_test_segnext_t(run_tool, sample_root, tmp_path):
    data_options = small_data_options(config_path(TINY),
                                      sample_root('celebamask_hq'), SIZE)
    work_dir = str(tmp_path / 'work')
    iters = 30
    train_options = data_options + [
        'data.samples_per_gpu=2', 'data.workers_per_gpu=1',
        'model.backbone.init_cfg=None', 'optimizer.lr=0.001',
        'lr_config.warmup_iters=3', f'runner.max_iters={iters}',
        f'checkpoint_config.interval={iters}', f'evaluation.interval={iters}',
        'log_config.interval=1'
    ]
    result = run_tool(['./tools/dist_train.sh', config_path(TINY), '2',
                       '--work-dir', work_dir, '--seed', '0',
                       '--cfg-options'] + train_options)
    assert result.returncode == 0, result.stderr[-5000:]
    losses = train_losses(work_dir)
    assert len(losses) == iters
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    assert last < 0.8 * first, losses

    checkpoint = osp.join(work_dir, f'iter_{iters}.pth')
    eval_dir = str(tmp_path / 'eval')
    result = run_tool(['./tools/dist_test.sh', config_path(TINY), checkpoint,
                       '2', '--eval', 'mIoU', 'mF1', '--work-dir', eval_dir,
                       '--cfg-options'] + data_options)
    assert result.returncode == 0, result.stderr[-5000:]
    reports = list(mmcv.scandir(eval_dir, '.json'))
    assert len(reports) == 1, reports
    metrics = mmcv.load(osp.join(eval_dir, reports[0]))['metric']
    assert 0 < metrics['mIoU'] <= 1 and 0 < metrics['mF1'] <= 1
