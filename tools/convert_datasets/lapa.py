"""Check and copy the LaPa release into images/, labels/ and split files.

Example::

    python tools/convert_datasets/lapa.py /path/to/LaPa -o data/lapa
"""
import argparse
import sys

from mmseg_face.datasets.converters import convert_lapa
from mmseg_face.datasets.converters.common import ConversionError
from mmseg_face.utils.launch import exit_on_user_error


def parse_args():
    parser = argparse.ArgumentParser(
        description='Verify every LaPa image/label pair and write the '
        'converted layout with train/val/test split files')
    parser.add_argument(
        'root', help='LaPa folder with train/, val/ and test/')
    parser.add_argument(
        '-o', '--out-dir', default='data/lapa', help='output root')
    parser.add_argument(
        '--nproc', type=int, default=4, help='worker processes')
    return parser.parse_args()


def main():
    args = parse_args()
    with exit_on_user_error('tools/convert_datasets/lapa.py',
                            input_errors=(ConversionError, )):
        summary = convert_lapa(args.root, args.out_dir, nproc=args.nproc)
        print(summary.format())
        sys.exit(1 if summary.rejected else 0)


if __name__ == '__main__':
    main()
