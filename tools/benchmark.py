"""Measure inference latency and throughput of a config, on CPU or CUDA.

Usage: ``python tools/benchmark.py CONFIG [CHECKPOINT] --shape 512 512
--batch-size 1 8 --device cpu --warmup 5 --repeats 20 [--optimize]``
Several ``--shape`` flags give several input sizes. ``--optimize`` times the
model as ``FaceParser`` runs it: BatchNorm folded into the convolutions and
channels-last memory.
"""
import argparse

import torch
from mmcv import DictAction

from mmseg_face.utils.cli_args import int_at_least


def parse_args():
    parser = argparse.ArgumentParser(
        description='Benchmark segmentor inference (latency, images/s)')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', nargs='?', help='optional checkpoint')
    parser.add_argument(
        '--shape', type=int_at_least(1), nargs=2, action='append',
        metavar=('H', 'W'),
        help='input size, repeatable (default 512 512)')
    parser.add_argument(
        '--batch-size', type=int_at_least(1), nargs='+', default=[1])
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    parser.add_argument(
        '--threads', type=int_at_least(1), help='torch CPU threads')
    parser.add_argument('--warmup', type=int_at_least(0), default=5)
    parser.add_argument('--repeats', type=int_at_least(1), default=20)
    parser.add_argument(
        '--optimize', action='store_true',
        help='fold BatchNorm into the convolutions and use channels-last '
        'memory, as FaceParser does')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmseg_face.utils.launch import exit_on_user_error
    from mmseg_face.apis import (InferenceOptimizationError,
                                 optimize_for_inference)
    with exit_on_user_error('tools/benchmark.py',
                            input_errors=(InferenceOptimizationError, )):
        from mmcv.runner import load_checkpoint

        from mmseg_face.utils.benchmark import format_table, time_inference
        from mmseg_face.utils.complexity import build_segmentor_from_config
        if args.device.startswith('cuda') and not torch.cuda.is_available():
            raise SystemExit('tools/benchmark.py: error: --device '
                             f'{args.device} but CUDA is not available')
        if args.threads:
            torch.set_num_threads(args.threads)
        model, _ = build_segmentor_from_config(args.config, args.cfg_options)
        if args.checkpoint:
            load_checkpoint(model, args.checkpoint, map_location='cpu')
        model.to(args.device)
        if args.optimize:
            model = optimize_for_inference(model)
        rows = []
        for shape in args.shape or [[512, 512]]:
            for batch in args.batch_size:
                timing = time_inference(model, shape, batch, args.device,
                                        args.warmup, args.repeats)
                rows.append(dict(shape=shape, batch=batch, **timing))
        threads = torch.get_num_threads()
        variant = 'optimised for inference' if args.optimize else 'as built'
        print(f'{args.config} ({variant}) on {args.device} ({threads} CPU '
              f'threads), {args.warmup} warm-up + {args.repeats} timed '
              'passes each')
        print(format_table(rows))


if __name__ == '__main__':
    main()
