"""CPNet and SR-Net train through ./tools/dist_train.sh (2 CPU processes)
on generated CelebAMask-HQ faces at 64x64, and the loss falls."""
import os.path as osp

import numpy as np
import pytest

from small_configs import small_data_options, train_records

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SIZE = 64
CONFIGS = {
    # A 64x64 crop gives an 8x8 feature map at output stride 8.
    'cpnet': ('cpnet/cpnet_r50-d8_512x512_80k_celebamask-hq.py',
              ['model.decode_head.prior_size=8']),
    # No ImageNet file at test time.
    'srnet': ('srnet/srnet_r50-d8_512x512_80k_celebamask-hq.py',
              ['model.backbone.init_cfg=None']),
}


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_dist_train_lowers_the_loss(name, run_tool, sample_root, tmp_path):
    config, model_options = CONFIGS[name]
    config = osp.join(REPO_ROOT, 'local_configs', config)
    data_root = sample_root('celebamask_hq')
    work_dir = str(tmp_path / 'work')
    iters = 16
    # No loader worker processes: two ranks already share two cores.
    options = small_data_options(config, data_root, SIZE) + model_options + [
        'data.workers_per_gpu=0', 'data.persistent_workers=False',
        'model.pretrained=None', 'data.samples_per_gpu=2',
        f'runner.max_iters={iters}', f'checkpoint_config.interval={iters}',
        f'evaluation.interval={iters}', 'log_config.interval=1'
    ]
    result = run_tool(['./tools/dist_train.sh', config, '2', '--work-dir',
                       work_dir, '--seed', '0', '--cfg-options'] + options)
    assert result.returncode == 0, result.stderr[-5000:]
    records = train_records(work_dir)
    assert len(records) == iters
    # Each iteration sees other faces and augmentations, and CPNet's prior
    # loss holds a part no weight can lower (100 per prior row without
    # another same-class position), so compare 4-iteration means: the
    # segmentation loss falls clearly, the total too.
    for key, ratio in (('decode.loss_ce', 0.85), ('loss', 1.0)):
        losses = [record[key] for record in records]
        first, last = np.mean(losses[:4]), np.mean(losses[-4:])
        assert last < ratio * first, (key, losses)
