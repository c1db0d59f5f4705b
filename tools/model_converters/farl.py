"""Convert a facer FaRL face parser (TorchScript) to mmseg_face.

Reads facer's ``face_parsing.farl.celebm.main_ema_181500_jit.pt`` or
``face_parsing.farl.lapa.main_ema_136500_jit191.pt`` and writes an mmseg
checkpoint for ``local_configs/farl/farl_vit-b16_*_celebamask-hq.py``
(official CelebAMask-HQ class order) or ``..._lapa.py`` (LaPa ids).

Usage: ``python tools/model_converters/farl.py SRC DST``
"""
import argparse


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert a facer FaRL face-parsing TorchScript file to '
        'an mmseg_face checkpoint')
    parser.add_argument('src', help='original TorchScript file')
    parser.add_argument('dst', help='converted checkpoint')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmseg_face.utils.launch import exit_on_user_error
    with exit_on_user_error('tools/model_converters/farl.py'):
        from mmseg_face.utils.farl_converter import convert_farl_file
        print(convert_farl_file(args.src, args.dst))


if __name__ == '__main__':
    main()
