"""HRNetV2-W18 + PSA_s / PSA_p + OCR train through ./tools/dist_train.sh
(2 CPU processes) on generated faces and lower their loss."""
import os.path as osp

import numpy as np
import pytest

from small_configs import failure_message, small_data_options, train_losses

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO_ROOT, 'local_configs', 'psa')
SIZE = 64
ITERS = 12


@pytest.mark.parametrize('name', [
    'psa_s_hr18_ocr_512x512_80k_celebamask-hq.py',
    'psa_p_hr18_ocr_512x512_80k_celebamask-hq.py',
])
def test_dist_train_lowers_the_loss(name, run_tool, sample_root, tmp_path):
    config = osp.join(CONFIGS, name)
    options = small_data_options(config, sample_root('celebamask_hq'), SIZE)
    options += [
        # No ImageNet download: the backbone keeps mmseg's HRNet init.
        'model.backbone.init_cfg=None',
        'data.workers_per_gpu=0', 'data.persistent_workers=False',
        'data.samples_per_gpu=2', f'runner.max_iters={ITERS}',
        # A few steps of the recipe's poly-2 decay barely move at lr 0.01.
        'optimizer.lr=0.05', f'checkpoint_config.interval={ITERS}',
        # No evaluation: the loss is what is checked here.
        f'evaluation.interval={ITERS + 1}', 'log_config.interval=1'
    ]
    work_dir = str(tmp_path / 'work')
    result = run_tool(['./tools/dist_train.sh', config, '2', '--work-dir',
                       work_dir, '--seed', '0', '--cfg-options'] + options)
    assert result.returncode == 0, failure_message(result)
    losses = train_losses(work_dir)
    assert len(losses) == ITERS, losses
    assert all(np.isfinite(losses)), losses
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses
