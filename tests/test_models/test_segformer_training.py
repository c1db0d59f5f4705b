"""The SegFormer face parser's config trains through ./tools/dist_train.sh
(2 CPU processes) on one batch of generated faces, with a tiny MiT of the
same layout."""
import os.path as osp

import numpy as np

from small_configs import dist_train_on_one_batch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'segformer',
                  'segformer_mlp_mit-b5_8x2_512x512_160k_celebamask-hq.py')


def test_dist_train_lowers_the_loss(run_tool, sample_root, tmp_path):
    records = dist_train_on_one_batch(
        run_tool, CONFIG, sample_root('celebamask_hq'),
        str(tmp_path / 'work'), 16, [
            'model.backbone.embed_dims=8',
            'model.backbone.num_layers=[1,1,1,1]',
            'model.decode_head.in_channels=[8,16,40,64]',
            'model.decode_head.channels=16',
            # The recipe's 1.5k warm-up would keep 16 iterations near lr 0.
            'lr_config.warmup_iters=1', 'optimizer.lr=0.001'
        ])
    losses = [record['loss'] for record in records]
    assert np.mean(losses[-4:]) < 0.8 * np.mean(losses[:4]), losses
