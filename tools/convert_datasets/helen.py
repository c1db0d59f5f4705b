"""Convert the Helen release (SmithCVPR2013_dataset_resized).

Example::

    python tools/convert_datasets/helen.py \
        /path/to/SmithCVPR2013_dataset_resized -o data/helen --nproc 8
"""
import argparse

from mmseg_face.datasets.converters import convert_helen
from mmseg_face.utils.launch import (add_conversion_arguments,
                                     conversion_options, run_conversion)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Argmax the Helen soft masks into label maps and write '
        'the exemplars/tuning/testing splits as train/val/test')
    parser.add_argument(
        'root',
        help='folder with images/, labels/, exemplars.txt, tuning.txt and '
        'testing.txt')
    parser.add_argument(
        '-o', '--out-dir', default='data/helen', help='output root')
    add_conversion_arguments(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    run_conversion('tools/convert_datasets/helen.py', convert_helen,
                   args.root, args.out_dir, **conversion_options(args))


if __name__ == '__main__':
    main()
