"""Time cost of the checkpoint content hash and the checked, atomic I/O.

Saves and loads a checkpoint of about ``--megabytes`` MB of float32 weights
(plus an SGD momentum buffer of the same size when ``--optimizer``) on the
CPU, ``--repeats`` times each, and prints the median of each step:

* hashing alone (:func:`mmseg_face.utils.checkpoint.content_hash`);
* saving with mmcv's own ``save_checkpoint`` (in place, no hash), the same
  followed by an fsync (what waiting for the disk costs), and with
  mmseg_face's (hash into the meta, temporary file, fsync, rename);
* loading with ``torch.load(weights_only=True)`` (no checks) and with
  :func:`~mmseg_face.utils.checkpoint.load_from_local` (format checks,
  weights-only, hash verified).

Example::

    python bench/checkpoint_hash_cost.py --megabytes 100 --repeats 5
"""
import argparse
import os
import os.path as osp
import statistics
import tempfile
import time

import torch
import torch.nn as nn

import mmseg_face  # noqa: F401  (compat patches)
from mmseg_face.utils.checkpoint import (content_hash, mmcv_save_checkpoint,
                                         load_from_local, save_checkpoint)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Time cost of the checkpoint content hash')
    parser.add_argument('--megabytes', type=int, default=100,
                        help='size of the weights in MB (float32)')
    parser.add_argument('--repeats', type=int, default=5,
                        help='timed runs per step (the median is shown)')
    parser.add_argument('--optimizer', action='store_true',
                        help='also save an SGD momentum buffer')
    parser.add_argument('--dir', default=None,
                        help='where to write (default: a temporary folder)')
    args = parser.parse_args()
    if args.megabytes < 1 or args.repeats < 1:
        parser.error('--megabytes and --repeats must be >= 1')
    return args


def weights_of(megabytes):
    """A model of square linear layers holding ``megabytes`` MB of float32."""
    side = 1024
    layers = max(1, round(megabytes * 2**20 / (4 * side * side)))
    return nn.Sequential(*(nn.Linear(side, side, bias=False)
                           for _ in range(layers)))


def median_seconds(step, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def save_and_sync(model, filename, optimizer):
    mmcv_save_checkpoint(model, filename, optimizer)
    with open(filename, 'rb+') as f:
        os.fsync(f.fileno())


def main():
    args = parse_args()
    torch.manual_seed(0)
    model = weights_of(args.megabytes)
    optimizer = None
    if args.optimizer:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        model(torch.ones(1, 1024)).sum().backward()
        optimizer.step()
    saved = [model.state_dict(), optimizer.state_dict() if optimizer else {}]
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        plain = osp.join(folder, 'plain.pth')
        checked = osp.join(folder, 'checked.pth')
        rows = [
            ('hash what is saved', median_seconds(
                lambda: content_hash(saved), args.repeats)),
            ("save: mmcv's save_checkpoint", median_seconds(
                lambda: mmcv_save_checkpoint(model, plain, optimizer),
                args.repeats)),
            ("save: mmcv's save_checkpoint + fsync", median_seconds(
                lambda: save_and_sync(model, plain, optimizer), args.repeats)),
            ('save: hashed, atomic (ours)', median_seconds(
                lambda: save_checkpoint(model, checked, optimizer),
                args.repeats)),
            ('load: torch.load, no checks', median_seconds(
                lambda: torch.load(checked, weights_only=True),
                args.repeats)),
            ('load: load_from_local, hash checked (ours)', median_seconds(
                lambda: load_from_local(checked), args.repeats)),
        ]
        size_mb = osp.getsize(checked) / 2**20
    print(f'checkpoint of {size_mb:.0f} MB '
          f'({"weights + SGD momentum" if optimizer else "weights"}), '
          f'{torch.get_num_threads()} CPU threads, median of {args.repeats}')
    print('| step | seconds | MB/s |')
    print('|---|---:|---:|')
    for step, seconds in rows:
        print(f'| {step} | {seconds:.3f} | {size_mb / seconds:.0f} |')


if __name__ == '__main__':
    main()
