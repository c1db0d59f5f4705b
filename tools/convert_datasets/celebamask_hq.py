"""Convert the CelebAMask-HQ release into images/, labels/ and split files.

Example::

    python tools/convert_datasets/celebamask_hq.py /path/to/CelebAMask-HQ \
        -o data/celebamask_hq --nproc 8
"""
import argparse

from mmseg_face.datasets.converters import convert_celebamask_hq
from mmseg_face.utils.launch import (add_conversion_arguments,
                                     conversion_options, run_conversion)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Merge CelebAMask-HQ part masks (official order) and '
        'write the split files')
    parser.add_argument(
        'root',
        help='release folder with CelebA-HQ-img, CelebAMask-HQ-mask-anno '
        'and CelebA-HQ-to-CelebA-mapping.txt')
    parser.add_argument(
        '-o', '--out-dir', default='data/celebamask_hq', help='output root')
    parser.add_argument(
        '--split-scheme',
        choices=['celeba', 'segnext'],
        default='celeba',
        help='celeba: official CelebA partition via the mapping file '
        '(24183/2993/2824); segnext: ids 0-27999 train, 28000-29999 val '
        '(test.txt = val)')
    parser.add_argument(
        '--keep-image-size',
        action='store_true',
        help='keep the 1024 images (default: resize them to the 512 labels)')
    add_conversion_arguments(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    run_conversion(
        'tools/convert_datasets/celebamask_hq.py',
        convert_celebamask_hq,
        args.root,
        args.out_dir,
        split_scheme=args.split_scheme,
        keep_image_size=args.keep_image_size,
        **conversion_options(args))


if __name__ == '__main__':
    main()
