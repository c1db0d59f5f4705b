"""Face configs shrunk for CPU tests, and the training logs of their runs."""
import glob
import json
import os.path as osp

import torch
from mmcv import Config
from mmcv.parallel import collate
from mmcv.runner import build_optimizer
from mmseg.datasets import build_dataset

from mmseg_face.utils.complexity import build_segmentor_from_config

SIZE_KEYS = ('img_scale', 'crop_size', 'size')


def shrink_pipeline(pipeline, size):
    """Point every size of a (nested) pipeline at ``size`` x ``size``."""
    for step in pipeline:
        for key in SIZE_KEYS:
            if key in step:
                step[key] = (size, size)
        if 'transforms' in step:
            shrink_pipeline(step['transforms'], size)


def small_config(path, data_root, size):
    """The config at ``path`` with every split on ``data_root`` at ``size``."""
    cfg = Config.fromfile(path)
    for split in ('train', 'val', 'test'):
        cfg.data[split].data_root = data_root
        shrink_pipeline(cfg.data[split].pipeline, size)
    return cfg


def small_data_options(path, data_root, size):
    """``--cfg-options`` doing what :func:`small_config` does, for the tools."""
    cfg = Config.fromfile(path)
    options = []
    for split in ('train', 'val', 'test'):
        options.append(f'data.{split}.data_root={data_root}')
        for index, step in enumerate(cfg.data[split].pipeline):
            for key in SIZE_KEYS:
                if key in step:
                    options.append(f'data.{split}.pipeline.{index}.{key}='
                                   f'({size},{size})')
    return options


def train_records(work_dir):
    """Logged training iterations of the run in work_dir (JSON records)."""
    (log_file, ) = glob.glob(osp.join(work_dir, '*.log.json'))
    with open(log_file) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r for r in records if r.get('mode') == 'train']


def train_losses(work_dir):
    """Total loss of every logged training iteration of the run in work_dir."""
    return [r['loss'] for r in train_records(work_dir)]


def _plain(value):
    """Config values as Python literals (tuples kept) for a config file."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    return value


def dist_train_on_one_batch(run_tool, config, data_root, work_dir, iters,
                            options=(), size=64):
    """Train ``config`` for ``iters`` iterations through
    ``./tools/dist_train.sh`` (2 CPU processes) on the first two training
    images of ``data_root``, resized to ``size`` without the config's
    random augmentation. The split lists each image twice and each rank
    takes two samples (BN needs more than one), so every iteration's batch
    over both ranks is the same four samples and the logged losses
    (averaged over the ranks) show the optimisation rather than which crop
    came up. ``options`` are further ``--cfg-options``.

    Returns:
        list[dict]: The logged training records, one per iteration.
    """
    with open(osp.join(data_root, 'train.txt')) as f:
        two_images = f.read().split()[:2]
    split = f'{work_dir}_two_images.txt'
    with open(split, 'w') as f:
        f.write('\n'.join(two_images * 2) + '\n')
    pipeline = []
    for step in Config.fromfile(config).data.train.pipeline:
        if step['type'] == 'Resize':
            step = dict(type='Resize', img_scale=(size, size),
                        keep_ratio=False)
        elif 'Flip' in step['type']:  # kept for its meta keys, never flips
            step = dict(step, prob=0.0)
        elif 'Random' in step['type'] or step['type'] in (
                'PhotoMetricDistortion', 'Pad'):
            continue
        pipeline.append(_plain(step))
    fixed_config = f'{work_dir}_fixed_batch.py'
    with open(fixed_config, 'w') as f:
        f.write(f'_base_ = [{osp.abspath(config)!r}]\n'
                f'data = dict(train=dict(pipeline={pipeline!r}))\n')
    # No loader worker processes: two ranks already share two cores.
    options = small_data_options(fixed_config, data_root, size) + [
        f'data.train.split={split}', 'data.samples_per_gpu=2',
        'data.workers_per_gpu=0', 'data.persistent_workers=False',
        f'runner.max_iters={iters}', f'checkpoint_config.interval={iters}',
        f'evaluation.interval={iters}', 'log_config.interval=1'
    ] + list(options)
    result = run_tool(['./tools/dist_train.sh', fixed_config, '2',
                       '--work-dir', work_dir, '--seed', '0',
                       '--cfg-options'] + options)
    assert result.returncode == 0, failure_message(result)
    records = train_records(work_dir)
    assert len(records) == iters, records
    return records


def failure_message(result):
    """Exit status and the output tails of a failed tool run."""
    return f'exit {result.returncode}\n{result.stdout[-3000:]}\n' \
           f'{result.stderr[-5000:]}'


def train_step_and_simple_test(cfg, seed=0):
    """One SGD step on two training samples, then ``simple_test`` of one.

    Returns:
        dict: ``model``, ``img_shape`` (training batch), ``loss``,
        ``changed`` (fraction of parameter tensors the step changed),
        ``result`` (predicted label map) and ``label`` (its ground truth).
    """
    torch.manual_seed(seed)
    model, _ = build_segmentor_from_config(cfg)
    model.train()
    train_set = build_dataset(cfg.data.train)
    batch = collate([train_set[0], train_set[1]], samples_per_gpu=2)
    inputs = {key: batch[key].data[0]
              for key in ('img', 'img_metas', 'gt_semantic_seg')}
    optimizer = build_optimizer(model, cfg.optimizer)
    before = [p.detach().clone() for p in model.parameters()]
    outputs = model.train_step(inputs, optimizer)
    optimizer.zero_grad()
    outputs['loss'].backward()
    optimizer.step()
    changed = sum(not torch.equal(a, b)
                  for a, b in zip(before, model.parameters())) / len(before)

    model.eval()
    test_set = build_dataset(cfg.data.test)
    sample = collate([test_set[0]], samples_per_gpu=1)
    with torch.no_grad():
        result = model(return_loss=False, img=[sample['img'][0]],
                       img_metas=[sample['img_metas'][0].data[0]])
    return dict(model=model, img_shape=tuple(inputs['img'].shape),
                loss=outputs['loss'].detach(), changed=changed,
                result=result, label=test_set.get_gt_seg_map_by_idx(0))


def fine_tune_losses(run_tool, config, checkpoint, data_root, work_dir,
                     iters, options=()):
    """Losses of a 2-process ``dist_train.sh`` run loading ``checkpoint``.

    Trains ``config`` on 64 px samples of ``data_root``, two images a
    process, logging every iteration; ``options`` add ``--cfg-options``.
    Fails the test if the run fails or logs another number of iterations.
    """
    options = small_data_options(config, data_root, 64) + [
        'data.workers_per_gpu=0', 'data.persistent_workers=False',
        'data.samples_per_gpu=2', f'runner.max_iters={iters}',
        f'checkpoint_config.interval={iters}',
        f'evaluation.interval={iters}', 'log_config.interval=1'
    ] + list(options)
    result = run_tool(['./tools/dist_train.sh', config, '2', '--work-dir',
                       work_dir, '--seed', '0', '--load-from', checkpoint,
                       '--cfg-options'] + options)
    assert result.returncode == 0, failure_message(result)
    losses = train_losses(str(work_dir))
    assert len(losses) == iters, losses
    return losses
