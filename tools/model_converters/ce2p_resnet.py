"""Convert CE2P's deep-stem ImageNet ResNet-101 (EAGRNet's initialisation).

Usage: ``python tools/model_converters/ce2p_resnet.py
snapshots/resnet101-imagenet.pth pretrain/resnet101_deepstem128_imagenet.pth``

The output holds ``state_dict`` and a ``meta`` with its content hash, and is
written only if it fits mmseg's deep-stem ResNet of the source's depth.
"""
import argparse


def parse_args():
    parser = argparse.ArgumentParser(
        description='Rename a CE2P deep-stem ResNet checkpoint for '
        "mmseg's ResNet(deep_stem=True, stem_channels=128)")
    parser.add_argument('src', help='original checkpoint')
    parser.add_argument('dst', help='converted checkpoint')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmseg_face.utils.launch import exit_on_user_error
    with exit_on_user_error('tools/model_converters/ce2p_resnet.py'):
        from mmseg.models import build_backbone

        from mmseg_face.utils.checkpoint import (CheckpointError, check_fit,
                                                 load_from_local, save_weights)
        from mmseg_face.utils.checkpoint_converters import (
            convert_ce2p_resnet, deep_stem_resnet_config)
        try:
            state_dict = convert_ce2p_resnet(
                load_from_local(args.src, map_location='cpu'))
            backbone = deep_stem_resnet_config(state_dict)
        except (KeyError, ValueError) as error:
            raise CheckpointError(args.src, error.args[0]) from error
        check_fit(build_backbone(backbone), state_dict, args.src)
        save_weights(state_dict, args.dst, meta=dict(backbone=backbone))
        print(f'wrote {len(state_dict)} tensors for ResNet-'
              f'{backbone["depth"]} to {args.dst}')


if __name__ == '__main__':
    main()
