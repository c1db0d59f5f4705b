"""EHANet and EAGR train on generated data with tools/train.py and
tools/dist_train.sh (2 CPU processes): the total loss goes down."""
import os.path as osp
import sys

import pytest
from small_configs import failure_message, train_records
from tiny_segmentation import CLASSES, make_tiny_dataset

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# The published leaf config with its init_cfg dropped, 3 generated classes
# at 64x64, a constant learning rate and logging of every iteration.
TRAIN_CONFIG = '''
_base_ = ['{leaf}']
model = dict(
    flip_pairs=[],
    backbone=dict(init_cfg=None),
    decode_head=dict(num_classes=3))
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    # Never flips: the same batch every iteration, so the loss curve is
    # smooth enough to compare its two ends.
    dict(type='FaceRandomFlip', prob=0.0, flip_pairs=[]),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='GenerateFaceEdge', mode='{edge_mode}'),
    dict(type='FaceFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg', 'gt_edge']),
]
data = dict(
    _delete_=True,
    samples_per_gpu=2,
    workers_per_gpu=0,
    persistent_workers=False,
    train=dict(
        type='CustomDataset',
        data_root='{data_root}',
        img_dir='images',
        ann_dir='labels',
        split='train.txt',
        classes={classes},
        palette=[[0, 0, 0], [220, 40, 40], [40, 200, 220]],
        pipeline=train_pipeline))
optimizer = dict(lr={lr})
lr_config = dict(_delete_=True, policy='fixed')
runner = dict(_delete_=True, type='IterBasedRunner', max_iters={iters})
checkpoint_config = dict(_delete_=True, by_epoch=False, interval={iters})
log_config = dict(
    interval=1, hooks=[dict(type='TextLoggerHook', by_epoch=False)])
'''

MODELS = {
    'ehanet':
    dict(
        leaf='local_configs/ehanet/ehanet_r18_8xb2_512x512_200e_lapa.py',
        edge_mode='ehanet',
        lr=0.01,
        iters=8,
        losses=('decode.loss_seg', 'decode.loss_aux', 'decode.loss_edge')),
    'eagr':
    dict(
        leaf='local_configs/eagr/eagr_r101_8xb7_473x473_200e_helen.py',
        edge_mode='eagr',
        lr=0.02,
        iters=4,
        losses=('decode.loss_seg', 'decode.loss_edge',
                'decode.loss_edge_att')),
}


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    # 4 images: one fixed batch of 2 per process, also with 2 processes.
    root = str(tmp_path_factory.mktemp('faces') / 'data')
    make_tiny_dataset(root, num_train=4, num_val=1, size=64)
    return root


def write_config(path, model, data_root):
    spec = MODELS[model]
    with open(path, 'w') as f:
        f.write(
            TRAIN_CONFIG.format(
                leaf=osp.join(REPO_ROOT, spec['leaf']),
                edge_mode=spec['edge_mode'],
                data_root=data_root,
                classes=CLASSES,
                lr=spec['lr'],
                iters=spec['iters']))
    return path


@pytest.mark.parametrize('model', sorted(MODELS))
@pytest.mark.parametrize('launcher', ['train', 'dist_train'])
def test_training_lowers_total_loss(model, launcher, data_root, tmp_path,
                                    run_tool):
    config = write_config(str(tmp_path / f'{model}.py'), model, data_root)
    work_dir = str(tmp_path / 'work')
    if launcher == 'train':
        command = [sys.executable, 'tools/train.py', config]
    else:
        command = ['./tools/dist_train.sh', config, '2']
    result = run_tool(command +
                      ['--work-dir', work_dir, '--no-validate', '--seed', '0'])
    assert result.returncode == 0, failure_message(result)
    records = train_records(work_dir)
    spec = MODELS[model]
    assert [r['iter'] for r in records] == list(range(1, spec['iters'] + 1))
    for record in records:
        assert set(spec['losses']) <= set(record)
        parts = sum(record[name] for name in spec['losses'])
        assert record['loss'] == pytest.approx(parts, rel=1e-4)
    first = (records[0]['loss'] + records[1]['loss']) / 2
    last = (records[-1]['loss'] + records[-2]['loss']) / 2
    assert last < 0.9 * first, [r['loss'] for r in records]
    assert osp.isfile(osp.join(work_dir, f'iter_{spec["iters"]}.pth'))
