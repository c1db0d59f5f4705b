"""ParseNet against GPEN's ``face_parse/parse_model.py`` (PSFR-GAN's
network), built as GPEN's ``FaceParse`` builds it.

The key map is the converter's own renaming (``convert_parsenet``, the
official class order, so no reordering): it is computed from the original's
state dict when the original is built.
"""
import os.path as osp

from . import ParityCase

_KEYS = {}


def build_original(source_dir):
    import importlib
    import sys

    from mmseg_face.utils.checkpoint_converters import (PARSENET_CLASSES,
                                                        convert_parsenet)
    sys.path.insert(0, osp.join(source_dir, 'face_parse'))
    model = importlib.import_module('parse_model').ParseNet(
        512, 512, 32, 64, 19, norm_type='bn', relu_type='LeakyReLU',
        ch_range=[32, 256])
    state_dict = model.state_dict()
    _KEYS.clear()
    _KEYS.update(zip(state_dict,
                     convert_parsenet(state_dict, PARSENET_CLASSES)))
    return model


def build_ours():
    from mmcv import Config
    from mmseg.models import build_segmentor
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(
        root, 'local_configs', 'parsenet',
        'parsenet_1x8_512x512_80k_celebamask-hq.py'))
    cfg.model.backbone.norm_cfg = dict(type='BN')
    return build_segmentor(cfg.model)


def our_logits(model, inputs):
    shape = tuple(inputs.shape[2:]) + (3, )
    metas = [dict(img_shape=shape, ori_shape=shape, pad_shape=shape)]
    return model.encode_decode(inputs, metas * len(inputs))


CASES = [
    ParityCase(
        name='ParseNet (GPEN / PSFR-GAN)', repo='yangxy+GPEN',
        build_original=build_original, build_ours=build_ours,
        key_map=_KEYS.__getitem__,
        original_logits=lambda model, inputs: model(inputs)[0],
        our_logits=our_logits,
        modules=('parse_model', 'blocks'))
]
