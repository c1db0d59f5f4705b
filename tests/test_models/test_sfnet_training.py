"""SFNet-R18 trains through ./tools/dist_train.sh (2 CPU processes) and is
scored by ./tools/dist_test.sh on the held-out generated split."""
import os.path as osp

import mmcv
import numpy as np

from small_configs import small_data_options, train_losses

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'sfnet',
                  'sfnet_r18_512x512_80k_celebamask-hq.py')
SIZE = 64


def test_dist_train_then_dist_test_sfnet_r18(run_tool, sample_root,
                                             tmp_path):
    data_root = sample_root('celebamask_hq')
    # No loader worker processes: two ranks already share two cores.
    data_options = small_data_options(CONFIG, data_root, SIZE) + [
        'data.workers_per_gpu=0', 'data.persistent_workers=False'
    ]
    work_dir = str(tmp_path / 'work')
    iters = 30
    train_options = data_options + [
        'model.pretrained=None', 'data.samples_per_gpu=2',
        f'runner.max_iters={iters}',
        f'checkpoint_config.interval={iters}', f'evaluation.interval={iters}',
        'log_config.interval=1'
    ]
    result = run_tool(['./tools/dist_train.sh', CONFIG, '2', '--work-dir',
                       work_dir, '--seed', '0', '--cfg-options'] +
                      train_options)
    assert result.returncode == 0, result.stderr[-5000:]
    losses = train_losses(work_dir)
    assert len(losses) == iters
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    assert last < 0.8 * first, losses

    eval_dir = str(tmp_path / 'eval')
    result = run_tool([
        './tools/dist_test.sh', CONFIG,
        osp.join(work_dir, f'iter_{iters}.pth'), '2', '--eval', 'mIoU', 'mF1',
        '--work-dir', eval_dir, '--cfg-options'
    ] + data_options)
    assert result.returncode == 0, result.stderr[-5000:]
    reports = list(mmcv.scandir(eval_dir, '.json'))
    assert len(reports) == 1, reports
    metrics = mmcv.load(osp.join(eval_dir, reports[0]))['metric']
    # 30 iterations from scratch find background and skin but few small
    # parts yet, so mF1 (facial parts only) may still be 0.
    assert 0 < metrics['mIoU'] <= 1 and 0 <= metrics['mF1'] <= 1
    assert 'IoU.skin' in metrics and 'F1.l_eye' in metrics
