"""Convert CE2P's deep-stem ImageNet ResNet-101 (EAGRNet's initialisation).

Usage: ``python tools/model_converters/ce2p_resnet.py
snapshots/resnet101-imagenet.pth pretrain/resnet101_deepstem128_imagenet.pth``
"""
import argparse
import os
import os.path as osp

import torch


def parse_args():
    parser = argparse.ArgumentParser(
        description='Rename a CE2P deep-stem ResNet checkpoint for '
        "mmseg's ResNet(deep_stem=True, stem_channels=128)")
    parser.add_argument('src', help='original checkpoint')
    parser.add_argument('dst', help='converted checkpoint')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmseg_face.utils.checkpoint_converters import convert_ce2p_resnet
    from mmseg_face.utils.launch import exit_on_user_error
    with exit_on_user_error('tools/model_converters/ce2p_resnet.py'):
        import mmseg_face  # noqa: F401  (weights-only loading allowlist)
        if not osp.isfile(args.src):
            raise FileNotFoundError(f'checkpoint not found: {args.src}')
        state_dict = convert_ce2p_resnet(
            torch.load(args.src, map_location='cpu'))
        os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
        torch.save(state_dict, args.dst + '.tmp')
        os.replace(args.dst + '.tmp', args.dst)
        print(f'wrote {len(state_dict)} tensors to {args.dst}')


if __name__ == '__main__':
    main()
