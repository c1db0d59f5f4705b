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

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {
    depth: osp.join(REPO_ROOT, 'local_configs', 'face_bisenet',
                    f'face_bisenet_r{depth}_8x2_448x448_80k_celebamask-hq.py')
    for depth in (18, 34)
}
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
    from mmseg_face.utils.launch import exit_on_user_error
    with exit_on_user_error('tools/model_converters/face_bisenet.py'):
        from mmcv import Config
        from mmcv.cnn.utils import revert_sync_batchnorm
        from mmseg.models import build_segmentor

        from mmseg_face.datasets import CelebAMaskHQDataset
        from mmseg_face.utils.checkpoint import (CheckpointError, check_fit,
                                                 load_from_local, save_weights)
        from mmseg_face.utils.checkpoint_converters import (
            ZLL_CLASSES, convert_face_bisenet, file_sha256)
        if not osp.isfile(args.src):
            raise FileNotFoundError(f'checkpoint not found: {args.src}')
        try:
            state_dict, source = convert_face_bisenet(
                load_from_local(args.src, map_location='cpu'),
                CelebAMaskHQDataset.CLASSES)
            config = CONFIGS.get(source['depth'])
            if config is None:
                raise ValueError(f'a ResNet-{source["depth"]} face BiSeNet '
                                 'has no config (ResNet-18 and -34 do)')
        except (KeyError, ValueError) as error:
            raise CheckpointError(args.src, error.args[0]) from error
        model_cfg = Config.fromfile(config).model
        model_cfg.backbone.backbone_cfg.init_cfg = None
        check_fit(revert_sync_batchnorm(build_segmentor(model_cfg)),
                  state_dict, args.src)
        meta = dict(
            CLASSES=CelebAMaskHQDataset.CLASSES,
            PALETTE=CelebAMaskHQDataset.PALETTE,
            config=osp.relpath(config, REPO_ROOT),
            source=dict(
                project=SOURCES[source['layout']],
                file=osp.basename(args.src),
                sha256=file_sha256(args.src),
                original_classes=ZLL_CLASSES),
            converter='tools/model_converters/face_bisenet.py')
        save_weights(state_dict, args.dst, meta=meta)
        print(f'wrote {len(state_dict)} tensors (ResNet-{source["depth"]}, '
              f'{source["layout"]} layout) to {args.dst}')


if __name__ == '__main__':
    main()
