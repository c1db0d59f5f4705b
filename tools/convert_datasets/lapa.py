"""Check and copy the LaPa release into images/, labels/ and split files.

Example::

    python tools/convert_datasets/lapa.py /path/to/LaPa -o data/lapa
"""
import argparse

from mmseg_face.datasets.converters import convert_lapa
from mmseg_face.utils.launch import (add_conversion_arguments,
                                     conversion_options, run_conversion)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Verify every LaPa image/label pair and write the '
        'converted layout with train/val/test split files')
    parser.add_argument(
        'root', help='LaPa folder with train/, val/ and test/')
    parser.add_argument(
        '-o', '--out-dir', default='data/lapa', help='output root')
    add_conversion_arguments(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    run_conversion('tools/convert_datasets/lapa.py', convert_lapa,
                   args.root, args.out_dir, **conversion_options(args))


if __name__ == '__main__':
    main()
