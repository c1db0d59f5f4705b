"""HRNetV2-W18 + PSA_s / PSA_p + OCR train through ./tools/dist_train.sh
(2 CPU processes) on one batch of generated faces and lower their loss."""
import os.path as osp

import numpy as np
import pytest

from small_configs import dist_train_on_one_batch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO_ROOT, 'local_configs', 'psa')
ITERS = 12


@pytest.mark.parametrize('name', [
    'psa_s_hr18_ocr_512x512_80k_celebamask-hq.py',
    'psa_p_hr18_ocr_512x512_80k_celebamask-hq.py',
])
def test_dist_train_lowers_the_loss(name, run_tool, sample_root, tmp_path):
    records = dist_train_on_one_batch(
        run_tool, osp.join(CONFIGS, name), sample_root('celebamask_hq'),
        str(tmp_path / 'work'), ITERS, [
            # No ImageNet download: the backbone keeps mmseg's HRNet init.
            'model.backbone.init_cfg=None',
            # A few steps of the recipe's poly-2 decay barely move at 0.01.
            'optimizer.lr=0.05'
        ])
    losses = [record['loss'] for record in records]
    assert all(np.isfinite(losses)), losses
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses
