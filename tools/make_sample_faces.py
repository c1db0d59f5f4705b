"""Draw sample faces in a dataset's original release layout (and convert).

Examples::

    # a 20-image CelebAMask-HQ release at the real sizes (1024 / 512)
    python tools/make_sample_faces.py celebamask_hq data/sample_release -n 20
    # small LaPa release, converted, ready to train
    python tools/make_sample_faces.py lapa data/sample --size 128 --convert
"""
import argparse

from mmseg_face.datasets.sample_faces import (SAMPLE_DATASETS,
                                              make_converted_sample,
                                              make_sample_release)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Write procedurally drawn faces as a dataset release')
    parser.add_argument('dataset', choices=SAMPLE_DATASETS)
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument(
        '-n', '--num-images', type=int, default=10, help='number of faces')
    parser.add_argument(
        '--size',
        type=int,
        default=None,
        help='image side (default: the real size, 1024 for CelebAMask-HQ, '
        '512 otherwise); with --convert, the converted side (default 64)')
    parser.add_argument(
        '--mask-size',
        type=int,
        default=None,
        help='CelebAMask-HQ part-mask side (default: half the image side)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--start-index',
        type=int,
        default=0,
        help='id of the first image (27998 straddles the SegNeXt split)')
    parser.add_argument(
        '--convert',
        action='store_true',
        help='also convert: writes OUT/<dataset>_release and OUT/<dataset>')
    args = parser.parse_args()
    if args.convert and (args.mask_size is not None or args.start_index):
        parser.error('--mask-size and --start-index shape the release only; '
                     'they cannot be combined with --convert')
    return args


def main():
    args = parse_args()
    if args.convert:
        data_root = make_converted_sample(args.dataset, args.out_dir,
                                          args.num_images, args.size or 64,
                                          args.seed)
        print(f'converted sample written to {data_root}')
    else:
        make_sample_release(args.dataset, args.out_dir, args.num_images,
                            args.size, args.mask_size, args.seed,
                            args.start_index)
        print(f'sample release written to {args.out_dir}')


if __name__ == '__main__':
    main()
