"""Print parameters, mmcv FLOPs and torchprofile MACs of a config, on CPU.

Usage: ``python tools/get_flops.py CONFIG --shape 512 512``
"""
import argparse

from mmcv import DictAction

from mmseg_face.utils.cli_args import int_at_least
from mmseg_face.utils.launch import exit_on_user_error


def parse_args():
    parser = argparse.ArgumentParser(
        description='Get the parameters, FLOPs and MACs of a segmentor')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape', type=int_at_least(1), nargs='+', default=[512, 512],
        help='input size: H W, or one value for a square input')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value')
    args = parser.parse_args()
    if len(args.shape) not in (1, 2):
        parser.error('--shape takes one or two integers')
    return args


def main():
    args = parse_args()
    shape = (args.shape * 2)[:2]
    with exit_on_user_error('tools/get_flops.py'):
        import mmseg_face  # noqa: F401  (registration)
        from mmseg_face.utils.complexity import complexity_report
        print(complexity_report(args.config, shape, args.cfg_options))


if __name__ == '__main__':
    main()
