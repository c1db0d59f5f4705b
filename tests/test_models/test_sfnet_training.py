"""SFNet-R18 and SFNet-Lite train through ./tools/dist_train.sh (2 CPU
processes, 64 px, one batch of two faces, no ImageNet weights); SFNet-R18's
checkpoint is then scored by ./tools/dist_test.sh on the held-out generated
split."""
import os.path as osp

import mmcv
import numpy as np
import pytest

from small_configs import dist_train_on_one_batch, small_data_options

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'local_configs', 'sfnet')
R18 = 'sfnet_r18_8xb2_512x512_56k_celebamask-hq.py'
LITE = [
    f'sfnet_lite_{variant}_8xb2_512x512_186k_celebamask-hq.py'
    for variant in ('r18', 'stdc1', 'stdc2')
]
SIZE = 64


def data_options(config, data_root):
    # No loader worker processes: two ranks already share two cores.
    return small_data_options(config, data_root, SIZE) + [
        'data.workers_per_gpu=0', 'data.persistent_workers=False'
    ]


def train(run_tool, config, data_root, work_dir, iters):
    records = dist_train_on_one_batch(run_tool, config, data_root, work_dir,
                                      iters, ['model.backbone.init_cfg=None'],
                                      size=SIZE)
    losses = [record['loss'] for record in records]
    first, last = np.mean(losses[:4]), np.mean(losses[-4:])
    assert last < 0.8 * first, losses


def test_dist_train_then_dist_test_sfnet_r18(run_tool, sample_root,
                                             tmp_path):
    config = osp.join(CONFIG_DIR, R18)
    data_root = sample_root('celebamask_hq')
    work_dir = str(tmp_path / 'work')
    iters = 16
    train(run_tool, config, data_root, work_dir, iters)

    eval_dir = str(tmp_path / 'eval')
    result = run_tool([
        './tools/dist_test.sh', config,
        osp.join(work_dir, f'iter_{iters}.pth'), '2', '--eval', 'mIoU', 'mF1',
        '--work-dir', eval_dir, '--cfg-options'
    ] + data_options(config, data_root))
    assert result.returncode == 0, result.stderr[-5000:]
    reports = list(mmcv.scandir(eval_dir, '.json'))
    assert len(reports) == 1, reports
    metrics = mmcv.load(osp.join(eval_dir, reports[0]))['metric']
    # 16 iterations from scratch on two faces find background and skin but few small
    # parts yet, so mF1 (facial parts only) may still be 0.
    assert 0 < metrics['mIoU'] <= 1 and 0 <= metrics['mF1'] <= 1
    assert 'IoU.skin' in metrics and 'F1.l_eye' in metrics


@pytest.mark.parametrize('name', LITE)
def test_dist_train_sfnet_lite(run_tool, sample_root, tmp_path, name):
    train(run_tool, osp.join(CONFIG_DIR, name),
          sample_root('celebamask_hq'), str(tmp_path / 'work'), 12)
