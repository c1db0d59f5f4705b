"""Convert a published face BiSeNet to mmseg_face's ``FaceBiSeNet``.

Reads face-parsing.PyTorch's ``79999_iter.pth`` (the same file as facexlib's
``parsing_bisenet.pth``) or yakhyo/face-parsing's ``resnet18.pt`` /
``resnet34.pt``, and writes an mmseg checkpoint predicting in the official
CelebAMask-HQ class order, for
``local_configs/face_bisenet/face_bisenet_r{18,34}_*.py``.

Usage: ``python tools/model_converters/face_bisenet.py SRC DST``
"""
import argparse


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert a face-parsing.PyTorch / facexlib / yakhyo '
        'BiSeNet checkpoint to an mmseg_face checkpoint')
    parser.add_argument('src', help='original checkpoint')
    parser.add_argument('dst', help='converted checkpoint')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmseg_face.utils.launch import exit_on_user_error
    with exit_on_user_error('tools/model_converters/face_bisenet.py'):
        from mmseg_face.utils.checkpoint_converters import \
            convert_face_bisenet_file
        print(convert_face_bisenet_file(args.src, args.dst))


if __name__ == '__main__':
    main()
