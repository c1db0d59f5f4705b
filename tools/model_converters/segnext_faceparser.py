"""Convert an e4s2022/SegNeXt-FaceParser checkpoint to mmseg_face.

Reads ``segnext.{tiny,small,base,large}.best_mIoU_iter_*.pth`` (mmcv
checkpoints of MSCAN + LightHamHead; the size follows from the weights) and
writes an mmseg checkpoint predicting the 19 CelebAMask-HQ classes in the
official order, for ``local_configs/segnext/<size>/``
``segnext_mscan-<t|s|b|l>_e4s_512x512_celebamask-hq.py``.
The 150-output classifiers of the tiny, base and large files are cut to
their 19 trained outputs.

Usage: ``python tools/model_converters/segnext_faceparser.py SRC DST``
"""
import argparse


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert an e4s2022/SegNeXt-FaceParser checkpoint to an '
        'mmseg_face checkpoint')
    parser.add_argument('src', help='original checkpoint')
    parser.add_argument('dst', help='converted checkpoint')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmseg_face.utils.launch import exit_on_user_error
    with exit_on_user_error('tools/model_converters/segnext_faceparser.py'):
        from mmseg_face.utils.segnext_converter import \
            convert_segnext_faceparser_file
        print(convert_segnext_faceparser_file(args.src, args.dst))


if __name__ == '__main__':
    main()
