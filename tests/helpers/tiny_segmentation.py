"""A tiny learnable segmentation dataset and a small SyncBN config for tool tests."""
import os
import os.path as osp

import cv2
import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSES = ('background', 'square', 'disc')


def make_tiny_dataset(root, num_train=8, num_val=4, size=32, seed=0):
    """Write images with a coloured square and disc plus their label maps.

    Layout: ``root/images/<i>.jpg``, ``root/labels/<i>.png`` (0/1/2) and
    ``root/{train,val}.txt``.
    """
    rng = np.random.default_rng(seed)
    for sub in ('images', 'labels'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    names = []
    for index in range(num_train + num_val):
        img = rng.integers(0, 40, (size, size, 3)).astype(np.uint8)
        label = np.zeros((size, size), np.uint8)
        x, y = rng.integers(0, size // 2, 2)
        side = int(rng.integers(size // 4, size // 2))
        label[y:y + side, x:x + side] = 1
        center = tuple(int(c) for c in rng.integers(size // 4, 3 * size // 4, 2))
        cv2.circle(label, center, size // 6, 2, -1)
        img[label == 1] = (40, 40, 220)
        img[label == 2] = (220, 200, 40)
        cv2.imwrite(osp.join(root, 'images', f'{index}.jpg'), img)
        cv2.imwrite(osp.join(root, 'labels', f'{index}.png'), label)
        names.append(str(index))
    for split, split_names in (('train', names[:num_train]),
                               ('val', names[num_train:])):
        with open(osp.join(root, f'{split}.txt'), 'w') as f:
            f.write('\n'.join(split_names) + '\n')


TINY_CONFIG = '''
_base_ = ['{repo}/local_configs/_base_/default_runtime.py']
custom_imports = dict(imports=['mmseg_face', 'rank_weights_hook'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='SaveRankWeightsHook')]
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    backbone=dict(type='ResNetV1c', depth=18, stem_channels=16,
                  base_channels=8, out_indices=(0, 1, 2, 3),
                  dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1),
                  norm_cfg=norm_cfg, contract_dilation=True),
    decode_head=dict(type='FCNHead', in_channels=64, in_index=3, channels=16,
                     num_convs=1, concat_input=False, num_classes=3,
                     norm_cfg=norm_cfg, align_corners=False,
                     loss_decode=dict(type='CrossEntropyLoss',
                                      loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                    to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=({size}, {size}), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=8),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiScaleFlipAug', img_scale=({size}, {size}), flip=False,
         transforms=[dict(type='Resize', keep_ratio=True),
                     dict(type='Normalize', **img_norm_cfg),
                     dict(type='ImageToTensor', keys=['img']),
                     dict(type='Collect', keys=['img'])]),
]
split_data = dict(type='CustomDataset', data_root='{data_root}',
                  img_dir='images', ann_dir='labels', classes={classes},
                  palette=[[0, 0, 0], [220, 40, 40], [40, 200, 220]])
data = dict(
    samples_per_gpu=2,
    workers_per_gpu=1,
    train=dict(split='train.txt', pipeline=train_pipeline, **split_data),
    val=dict(split='val.txt', pipeline=test_pipeline, **split_data),
    test=dict(split='val.txt', pipeline=test_pipeline, **split_data))
optimizer = dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.0)
optimizer_config = dict()
lr_config = dict(policy='poly', power=0.9, min_lr=1e-4, by_epoch=False)
runner = dict(type='IterBasedRunner', max_iters=4)
checkpoint_config = dict(by_epoch=False, interval=4)
evaluation = dict(interval=4, metric='mIoU')
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook', by_epoch=False)])
'''


def write_tiny_config(path, data_root, size=32):
    """Write the tiny config for ``data_root`` to ``path``; returns path."""
    with open(path, 'w') as f:
        f.write(TINY_CONFIG.format(repo=REPO_ROOT, data_root=data_root,
                                   size=size, classes=CLASSES))
    return path
