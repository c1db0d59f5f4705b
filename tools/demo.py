"""The end-to-end demo behind ``make demo``, on generated data and 2 CPU processes.

Steps, each through the project's own command-line tools:
1. ``tools/make_sample_faces.py``: a sample CelebAMask-HQ release in its
   original layout (1024-style images, per-part masks, mapping file).
2. ``tools/convert_datasets/celebamask_hq.py``: merged labels and splits.
3. ``./tools/dist_train.sh CONFIG 2``: train EHANet-R18.
4. ``./tools/dist_test.sh CONFIG CKPT 2 --eval mIoU mF1``: the metric tables.
5. ``tools/get_flops.py``: parameters, FLOPs and MACs.
6. Colour overlays of held-out faces beside their ground truth, and a plot of
   the training loss and validation mIoU.

Everything lands in ``--work-dir`` (default ``work_dirs/demo``).
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = ('local_configs/demo/'
               'ehanet_r18_2x8_128x128_300i_sample_celebamask_hq.py')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Generate, convert, train, test and visualise a face '
        'parser on sample data (CPU is fine)')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--config', default=DEMO_CONFIG)
    parser.add_argument('--num-images', type=int, default=240)
    parser.add_argument('--size', type=int, default=128,
                        help='side of the converted sample images')
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--eval-interval', type=int, default=100)
    parser.add_argument('--gpus', type=int, default=2,
                        help='processes of dist_train.sh / dist_test.sh')
    parser.add_argument('--num-overlays', type=int, default=4)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


# mmcv's TextLoggerHook lines: "Iter [20/300]\tlr: ..., eta: 0:05:10, ...,
# loss: 12.3456" while training and "Iter(val) [48]\taAcc: ..., mIoU: ..."
# after each evaluation.
TRAIN_LOG_LINE = re.compile(
    r'Iter \[(\d+)/(\d+)\].*?eta: ((?:\d+ days?, )?[\d:]+).*?[\s,]loss: '
    r'([\d.]+)')
VAL_LOG_LINE = re.compile(r'Iter\(val\) \[\d+\].*?\bmIoU: ([\d.]+)')


def training_progress(line):
    """A short progress line for a training-log line, or None to stay quiet."""
    match = TRAIN_LOG_LINE.search(line)
    if match:
        done, total, eta, loss = match.groups()
        return f'    iter {done}/{total}  loss {float(loss):.3f}  eta {eta}'
    match = VAL_LOG_LINE.search(line)
    if match:
        return f'    validation mIoU {100 * float(match.group(1)):.1f}%'
    return None


def run_step(title, cmd, log_path, progress=None):
    """Run one tool, echo its output to ``log_path``; stop the demo on failure.

    ``progress`` maps each output line to a line to print now (or None), so
    that long steps are not silent.
    """
    print(f'\n==> {title}\n    $ {" ".join(cmd)}', flush=True)
    start = time.time()
    # Unbuffered children, so that progress shows up as it happens.
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    with open(log_path, 'w') as log, subprocess.Popen(
            cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env=env) as process:
        for line in process.stdout:
            log.write(line)
            shown = progress(line) if progress is not None else None
            if shown is not None:
                print(shown, flush=True)
    if process.returncode != 0:
        with open(log_path) as log:
            tail = log.read()[-3000:]
        sys.exit(f'{tail}\ndemo: error: step "{title}" failed with exit '
                 f'code {process.returncode}; full log: {log_path}')
    print(f'    done in {time.time() - start:.0f} s (log: {log_path})')
    with open(log_path) as log:
        return log.read()


def metric_tables(test_output):
    """The tables dist_test.sh printed, from the first per-class table on."""
    start = test_output.find('per class results:')
    if start < 0:
        sys.exit('demo: error: dist_test.sh printed no metric table')
    lines = test_output[start:].splitlines()
    return '\n'.join(line for line in lines
                     if line.startswith(('+', '|', 'per class', 'Summary',
                                         'F1')) or not line.strip()) + '\n'


def latest_eval_json(test_work_dir):
    files = sorted(glob.glob(osp.join(test_work_dir, 'eval_*.json')))
    if not files:
        sys.exit(f'demo: error: no eval_*.json in {test_work_dir}')
    with open(files[-1]) as f:
        return json.load(f)['metric']


def plot_training(train_work_dir, out_file):
    """Plot training loss per logged iteration and validation mIoU."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    logs = sorted(glob.glob(osp.join(train_work_dir, '*.log.json')))
    train_iters, losses, val_iters, mious = [], [], [], []
    for path in logs:
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if entry.get('mode') == 'train' and 'loss' in entry:
                    train_iters.append(entry['iter'])
                    losses.append(entry['loss'])
                elif entry.get('mode') == 'val' and 'mIoU' in entry:
                    val_iters.append(train_iters[-1] if train_iters else 0)
                    mious.append(100 * entry['mIoU'])
    if not losses or not mious:
        sys.exit(f'demo: error: no training loss or validation mIoU in {logs}')
    figure, (loss_axis, miou_axis) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axis.plot(train_iters, losses)
    loss_axis.set(title='training loss', xlabel='iteration', ylabel='loss')
    miou_axis.plot(val_iters, mious, marker='o')
    miou_axis.set(title='validation mIoU', xlabel='iteration',
                  ylabel='mIoU (%)', ylim=(0, 100))
    figure.tight_layout()
    figure.savefig(out_file, dpi=100)
    plt.close(figure)
    return losses, mious


def write_overlays(config, checkpoint, data_root, names, out_dir):
    """Input | ground-truth overlay | prediction overlay, one PNG per face."""
    import cv2
    import numpy as np

    from mmseg_face.apis import FaceParser

    parser = FaceParser(config, checkpoint, device='cpu')
    os.makedirs(out_dir, exist_ok=True)
    images = [
        cv2.imread(osp.join(data_root, 'images', f'{name}.jpg'))
        for name in names
    ]
    predictions = parser.parse(images)
    written = []
    for name, img, prediction in zip(names, images, predictions):
        truth = cv2.imread(osp.join(data_root, 'labels', f'{name}.png'),
                           cv2.IMREAD_UNCHANGED)
        panels = [
            img, parser.overlay(img, truth),
            parser.overlay(img, prediction)
        ]
        for panel, caption in zip(panels, ('input', 'ground truth', 'EHANet')):
            cv2.putText(panel, caption, (3, 12), cv2.FONT_HERSHEY_SIMPLEX,
                        0.35, (255, 255, 255), 1, cv2.LINE_AA)
        out_file = osp.join(out_dir, f'{name}.png')
        cv2.imwrite(out_file, np.concatenate(panels, axis=1))
        written.append(out_file)
    return written


def main():
    args = parse_args()
    work_dir = osp.abspath(osp.join(REPO_ROOT, args.work_dir))
    logs = osp.join(work_dir, 'logs')
    os.makedirs(logs, exist_ok=True)
    python = sys.executable
    release = osp.join(work_dir, 'release')
    data_root = osp.join(work_dir, 'data', 'celebamask_hq')
    train_dir = osp.join(work_dir, 'train')
    test_dir = osp.join(work_dir, 'test')
    started = time.time()

    run_step('generate a sample CelebAMask-HQ release', [
        python, 'tools/make_sample_faces.py', 'celebamask_hq', release,
        '--num-images', str(args.num_images), '--size', str(2 * args.size),
        '--seed', str(args.seed)
    ], osp.join(logs, 'make_sample_faces.log'))
    # The demo's data folder is its own: a re-run with other sample
    # options replaces it instead of being refused.
    run_step('convert it (official CelebA split)', [
        python, 'tools/convert_datasets/celebamask_hq.py', release, '-o',
        data_root, '--nproc', '2', '--overwrite'
    ], osp.join(logs, 'convert.log'))

    data_options = [f'data.{split}.data_root={data_root}'
                    for split in ('train', 'val', 'test')]
    run_step(f'train with {args.gpus} processes', [
        './tools/dist_train.sh', args.config, str(args.gpus), '--work-dir',
        train_dir, '--seed', str(args.seed), '--deterministic',
        '--cfg-options', f'runner.max_iters={args.iters}',
        f'checkpoint_config.interval={args.iters}',
        f'evaluation.interval={args.eval_interval}',
        f'log_config.interval={max(1, min(10, args.iters // 10))}',
        *data_options
    ], osp.join(logs, 'train.log'), progress=training_progress)
    checkpoint = osp.join(train_dir, f'iter_{args.iters}.pth')

    test_output = run_step(f'test with {args.gpus} processes', [
        './tools/dist_test.sh', args.config, checkpoint, str(args.gpus),
        '--eval', 'mIoU', 'mF1', '--work-dir', test_dir, '--cfg-options',
        *data_options
    ], osp.join(logs, 'test.log'))
    tables = metric_tables(test_output)
    with open(osp.join(work_dir, 'metrics.txt'), 'w') as f:
        f.write(tables)
    metrics = latest_eval_json(test_dir)
    with open(osp.join(work_dir, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=2)

    flops = run_step('model size and compute at 512x512', [
        python, 'tools/get_flops.py', args.config, '--shape', '512', '512'
    ], osp.join(logs, 'get_flops.log'))
    flops = flops[flops.find('=' * 60):]  # the report, without warnings
    with open(osp.join(work_dir, 'flops.txt'), 'w') as f:
        f.write(flops)

    print('\n==> overlays of held-out faces and training curves')
    with open(osp.join(data_root, 'test.txt')) as f:
        names = f.read().split()[:args.num_overlays]
    overlays = write_overlays(args.config, checkpoint, data_root, names,
                              osp.join(work_dir, 'overlays'))
    losses, mious = plot_training(train_dir,
                                  osp.join(work_dir, 'training_curves.png'))

    print('\n' + tables)
    print(flops)
    print(f'demo finished in {(time.time() - started) / 60:.1f} min; '
          f'loss {losses[0]:.2f} -> {losses[-1]:.2f}, test mIoU '
          f'{100 * metrics["mIoU"]:.1f}%, mF1 {100 * metrics["mF1"]:.1f}%')
    print(f'outputs in {work_dir}: metrics.txt, metrics.json, flops.txt, '
          f'training_curves.png, overlays/ ({len(overlays)} images)')


if __name__ == '__main__':
    main()
