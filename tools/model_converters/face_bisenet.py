"""Convert a published face BiSeNet to mmseg_face's ``FaceBiSeNet``.

Reads face-parsing.PyTorch's ``79999_iter.pth`` (the same file as facexlib's
``parsing_bisenet.pth``) or yakhyo/face-parsing's ``resnet18.pt`` /
``resnet34.pt``, and writes an mmseg checkpoint predicting in the official
CelebAMask-HQ class order, for
``local_configs/face_bisenet/face_bisenet_r{18,34}_*.py``.

Usage: ``python tools/model_converters/face_bisenet.py SRC DST``
"""
import argparse
import os.path as osp

import torch

SOURCES = {
    'zll': 'zllrunning/face-parsing.PyTorch (also facexlib '
           'parsing_bisenet.pth)',
    'yakhyo': 'yakhyo/face-parsing',
}


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert a face-parsing.PyTorch / facexlib / yakhyo '
        'BiSeNet checkpoint to an mmseg_face checkpoint')
    parser.add_argument('src', help='original checkpoint')
    parser.add_argument('dst', help='converted checkpoint')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmseg_face.datasets import CelebAMaskHQDataset
    from mmseg_face.utils.checkpoint_converters import (
        ZLL_CLASSES, CheckpointConversionError, convert_face_bisenet,
        file_sha256, save_converted_checkpoint)
    from mmseg_face.utils.launch import exit_on_user_error
    prog = 'tools/model_converters/face_bisenet.py'
    with exit_on_user_error(prog, input_errors=(CheckpointConversionError, )):
        if not osp.isfile(args.src):
            raise FileNotFoundError(f'checkpoint not found: {args.src}')
        try:
            state_dict, source = convert_face_bisenet(
                torch.load(args.src, map_location='cpu'),
                CelebAMaskHQDataset.CLASSES)
        except CheckpointConversionError as error:
            raise CheckpointConversionError(f'{args.src}: {error}') from error
        meta = dict(
            CLASSES=CelebAMaskHQDataset.CLASSES,
            PALETTE=CelebAMaskHQDataset.PALETTE,
            source=dict(
                project=SOURCES[source['layout']],
                file=osp.basename(args.src),
                sha256=file_sha256(args.src),
                depth=source['depth'],
                original_classes=ZLL_CLASSES),
            converter='tools/model_converters/face_bisenet.py')
        save_converted_checkpoint(state_dict, args.dst, meta)
        print(f'wrote {len(state_dict)} tensors (ResNet-{source["depth"]}, '
              f'{source["layout"]} layout) to {args.dst}')


if __name__ == '__main__':
    main()
