"""Convert SFNet's ImageNet ResNet-18 (``resnet18-deep-inplane128.pth`` of
lxtGH/SFSegNets) for the ``init_cfg`` of ``local_configs/sfnet/*r18*``.

Usage: ``python tools/model_converters/sfnet_resnet.py
resnet18-deep-inplane128.pth pretrained/resnet18-deep-inplane128_mmseg.pth``

The output holds ``state_dict`` and a ``meta`` with its content hash and
source, and is written only if it fits the backbone exactly.
"""
import argparse


def parse_args():
    parser = argparse.ArgumentParser(
        description="Rename SFNet's deep-stem ImageNet ResNet-18 for "
        'Conv2DilatedResNetV1c')
    parser.add_argument('src', help='original checkpoint')
    parser.add_argument('dst', help='converted checkpoint')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmseg_face.utils.launch import exit_on_user_error
    with exit_on_user_error('tools/model_converters/sfnet_resnet.py'):
        from mmseg_face.utils.sfnet_converter import convert_sfnet_resnet_file
        print(convert_sfnet_resnet_file(args.src, args.dst))


if __name__ == '__main__':
    main()
