"""The SegFormer face parser's config trains through ./tools/dist_train.sh
(2 CPU processes), with a tiny MiT of the same layout."""
import os.path as osp

import numpy as np

from small_configs import small_data_options, train_losses

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'segformer',
                  'segformer_mlp_mit-b5_8x2_512x512_160k_celebamask-hq.py')
SIZE = 64


def test_dist_train_lowers_the_loss(run_tool, sample_root, tmp_path):
    iters = 20
    options = small_data_options(CONFIG, sample_root('celebamask_hq'),
                                 SIZE) + [
        'data.workers_per_gpu=0', 'data.persistent_workers=False',
        'data.samples_per_gpu=2', 'model.backbone.embed_dims=8',
        'model.backbone.num_layers=[1,1,1,1]',
        'model.decode_head.in_channels=[8,16,40,64]',
        'model.decode_head.channels=16',
        # The recipe's 1.5k warm-up would keep 20 iterations near lr 0.
        'lr_config.warmup_iters=1', 'optimizer.lr=0.001',
        f'runner.max_iters={iters}', f'checkpoint_config.interval={iters}',
        f'evaluation.interval={iters}', 'log_config.interval=1'
    ]
    work_dir = str(tmp_path / 'work')
    result = run_tool(['./tools/dist_train.sh', CONFIG, '2', '--work-dir',
                       work_dir, '--seed', '0', '--cfg-options'] + options)
    assert result.returncode == 0, result.stderr[-5000:]
    losses = train_losses(work_dir)
    assert len(losses) == iters
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5]), losses
