"""RegSeg and SPNet-R50 train through ./tools/dist_train.sh (2 CPU
processes) at 64 px on one batch of generated faces and lower their loss."""
import os.path as osp

import numpy as np
import pytest

from small_configs import dist_train_on_one_batch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ITERS = 16

# config -> extra --cfg-options. RegSeg trains from scratch; its
# 3000-iteration warmup would keep 16 iterations at a tenth of the rate, so
# the test warms up for 1. SPNet's ImageNet file is not loaded.
CASES = {
    'regseg/regseg_exp48_8x1_512x512_160k_celebamask-hq.py':
    ['lr_config.warmup_iters=1'],
    'spnet/spnet_r50-d8_512x512_80k_celebamask-hq.py':
    ['model.backbone.init_cfg=None'],
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_dist_train_lowers_the_loss(name, run_tool, sample_root, tmp_path):
    records = dist_train_on_one_batch(
        run_tool, osp.join(REPO_ROOT, 'local_configs', name),
        sample_root('celebamask_hq'), str(tmp_path / 'work'), ITERS,
        ['model.pretrained=None'] + CASES[name])
    losses = [record['loss'] for record in records]
    assert np.mean(losses[-4:]) < 0.8 * np.mean(losses[:4]), losses
