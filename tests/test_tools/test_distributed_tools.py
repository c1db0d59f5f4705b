"""dist_train.sh / dist_test.sh with two CPU processes, end to end.

One generated dataset and work dir serve the module, in order: train with
2 processes, resume from the saved checkpoint, then test with 2 processes
(each step is a torchrun launch, which dominates the cost).
"""
import os.path as osp
import re

import pytest
import torch

from small_configs import failure_message
from tiny_segmentation import CLASSES, make_tiny_dataset, write_tiny_config


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp('dist')
    data_root = str(root / 'data')
    make_tiny_dataset(data_root)
    config = write_tiny_config(str(root / 'tiny_config.py'), data_root)
    return dict(config=config, work_dir=str(root / 'work'))


@pytest.fixture(scope='module')
def trained(workspace, run_tool):
    result = run_tool(['./tools/dist_train.sh', workspace['config'], '2',
                       '--work-dir', workspace['work_dir'], '--seed', '0'])
    assert result.returncode == 0, failure_message(result)
    return result


def _weights(work_dir, rank, stage='after'):
    return torch.load(osp.join(work_dir, f'rank{rank}_{stage}.pth'))


def test_dist_train_two_processes_sync_gradients(workspace, trained):
    work_dir = workspace['work_dir']
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))
    rank0, rank1 = _weights(work_dir, 0), _weights(work_dir, 1)
    # Each rank saw different images; equal weights need synced gradients.
    for name, value in rank0.items():
        assert torch.equal(value, rank1[name]), name
    checkpoint = torch.load(osp.join(work_dir, 'iter_4.pth'))
    # mmcv names the file after the iteration count, stores the index.
    assert checkpoint['meta']['iter'] == 3
    assert tuple(checkpoint['meta']['CLASSES']) == CLASSES
    conv = 'decode_head.conv_seg.weight'
    assert torch.equal(checkpoint['state_dict'][conv], rank0[conv])
    # The run trained: the weights left their (shared) initial values.
    initial = _weights(work_dir, 0, 'before')
    assert torch.equal(initial[conv], _weights(work_dir, 1, 'before')[conv])
    assert not torch.equal(initial[conv], rank0[conv])
    log = trained.stdout + trained.stderr
    assert 'Distributed training: True' in log
    assert 'mIoU' in log  # DistEvalHook ran multi_gpu_test at iter 4


def test_dist_train_resume(workspace, trained, run_tool):
    work_dir = workspace['work_dir']
    result = run_tool([
        './tools/dist_train.sh', workspace['config'], '2', '--work-dir',
        work_dir, '--resume-from', osp.join(work_dir, 'iter_4.pth'),
        '--cfg-options', 'runner.max_iters=6', 'checkpoint_config.interval=2',
        'evaluation.interval=100'
    ])
    assert result.returncode == 0, failure_message(result)
    log = result.stdout + result.stderr
    assert re.search(r'resumed from epoch: \d+, iter 3\n', log)
    assert 'Iter [6/6]' in log and 'Iter [1/6]' not in log
    assert osp.isfile(osp.join(work_dir, 'iter_6.pth'))
    assert not osp.isfile(osp.join(work_dir, 'iter_2.pth'))  # started at 4
    rank0, rank1 = _weights(work_dir, 0), _weights(work_dir, 1)
    assert all(torch.equal(v, rank1[k]) for k, v in rank0.items())


def test_dist_test_prints_tables(workspace, trained, run_tool):
    checkpoint = osp.join(workspace['work_dir'], 'iter_4.pth')
    result = run_tool(['./tools/dist_test.sh', workspace['config'], checkpoint,
                       '2', '--eval', 'mIoU'])
    assert result.returncode == 0, failure_message(result)
    out = result.stdout
    assert 'per class results:' in out and 'Summary:' in out
    for name in CLASSES:
        assert re.search(rf'\|\s+{name}\s+\|\s+[\d.]+\s+\|', out), name
    summary = re.search(r'\|\s+([\d.]+)\s+\|\s+([\d.]+)\s+\|\s+([\d.]+)\s+\|',
                        out.split('Summary:')[1])
    assert summary and 0 <= float(summary.group(2)) <= 100
