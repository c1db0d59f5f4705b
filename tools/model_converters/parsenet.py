"""Convert GPEN's face parser (ParseNet) to mmseg_face's ``ParseNet``.

Reads GPEN's ``ParseNet-latest.pth`` (the same network, and by its size the
same file, as facexlib's and CodeFormer's ``parsing_parsenet.pth``; from
PSFR-GAN) and writes an mmseg checkpoint for
``local_configs/parsenet/parsenet_gpen_512x512_celebamask-hq.py``. The
original already predicts in the official CelebAMask-HQ class order.

Usage: ``python tools/model_converters/parsenet.py SRC DST``
"""
import argparse


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert a GPEN / facexlib ParseNet checkpoint to an '
        'mmseg_face checkpoint')
    parser.add_argument('src', help='original checkpoint')
    parser.add_argument('dst', help='converted checkpoint')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmseg_face.utils.launch import exit_on_user_error
    with exit_on_user_error('tools/model_converters/parsenet.py'):
        from mmseg_face.utils.checkpoint_converters import \
            convert_parsenet_file
        print(convert_parsenet_file(args.src, args.dst))


if __name__ == '__main__':
    main()
