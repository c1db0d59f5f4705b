"""Convert an NVIDIA-style deep-stem ImageNet ResNet (SR-Net's initialisation).

Reads lxtGH/SFSegNets' ``pretrained_models/resnet50-deep.pth`` (or
``resnet101-deep.pth``) and writes the weights of mmseg's
``ResNet(deep_stem=True, stem_channels=128)``, for the SR-Net configs.

Usage: ``python tools/model_converters/deep_stem_resnet.py
resnet50-deep.pth pretrain/resnet50_deepstem128_imagenet.pth``
"""
import argparse


def parse_args():
    parser = argparse.ArgumentParser(
        description='Rename a deep-stem (conv1.0-6, bn1) ResNet checkpoint '
        "for mmseg's ResNet(deep_stem=True, stem_channels=128)")
    parser.add_argument('src', help='original checkpoint')
    parser.add_argument('dst', help='converted checkpoint')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmseg_face.utils.launch import exit_on_user_error
    with exit_on_user_error('tools/model_converters/deep_stem_resnet.py'):
        from mmseg_face.utils.resnet_converter import \
            convert_deep_stem_resnet_file
        print(convert_deep_stem_resnet_file(args.src, args.dst))


if __name__ == '__main__':
    main()
