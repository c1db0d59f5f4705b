"""SegNeXt (MSCAN + LightHamHead) against the official
Visual-Attention-Network/SegNeXt code.

The original is its ADE20K config of each size with ``num_classes=19``,
built from its own ``mscan.py``, ``ham_head.py`` and ``encoder_decoder.py``
(loaded by ``parity_vs_original.load_segnext_original``: a registry of
their own, the installed mmseg 0.30 for what they import from mmseg);
SyncBN becomes BN. Ours is the CelebAMask-HQ config of the same size.

The original's NMF draws new random bases on every forward
(``torch.rand`` then ``.cuda()``); ours evaluates with a fixed buffer. For
the comparison each original ``NMF2D`` gets a ``fixed_bases`` buffer (the
seeded draw, L2-normalised, as ours) and its ``_build_bases`` returns that
buffer repeated per image, so the buffer is one more weight copied to ours.

After the seeded randomisation the layer scales are shrunk tenfold
(``parity_vs_original.shrink_layer_scales``): drawn from N(0, 1), they make
the base and large encoders overflow to NaN.
"""
import functools
import os.path as osp

import torch

from . import ParityCase

PACKAGE = 'segnext_official_original'
SIZES = (('t', 'tiny', '8x8'), ('s', 'small', '8x8'), ('b', 'base', '8x6'),
         ('l', 'large', '8x4'))


def _buffered_bases(self, B, S, D, R, cuda=False):
    return self.fixed_bases.repeat(B, 1, 1)


def shrink_layer_scales(model):
    from parity_vs_original import shrink_layer_scales
    shrink_layer_scales(model)


def build_original(source_dir, name):
    import torch.nn.functional as F
    from mmcv import Config
    from mmcv.cnn.utils import revert_sync_batchnorm
    from parity_vs_original import load_segnext_original
    registry, ham_head = load_segnext_original(source_dir, PACKAGE)
    ham_head.NMF2D._build_bases = _buffered_bases
    cfg = Config.fromfile(
        osp.join(source_dir, 'local_configs', 'segnext', name,
                 f'segnext.{name}.512x512.ade.160k.py'))
    cfg.model.decode_head.num_classes = 19
    cfg.model.backbone.init_cfg = None
    model = revert_sync_batchnorm(registry.build(cfg.model))
    for module in model.modules():
        if isinstance(module, ham_head.NMF2D):
            channels = model.decode_head.ham_channels
            bases = torch.rand((module.S, channels // module.S, module.R),
                               generator=torch.Generator().manual_seed(0))
            module.register_buffer('fixed_bases', F.normalize(bases, dim=1))
    return model


def build_ours(size, name, batch):
    from mmcv import Config
    from mmseg.models import build_segmentor
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(
        root, 'local_configs', 'segnext', name,
        f'segnext_mscan-{size}_{batch}_512x512_160k_celebamask-hq.py'))
    cfg.model.backbone.norm_cfg = dict(type='BN')
    cfg.model.backbone.init_cfg = None
    return build_segmentor(cfg.model)


def _logits(model, inputs):
    shape = tuple(inputs.shape[2:]) + (3, )
    metas = [dict(img_shape=shape, ori_shape=shape, pad_shape=shape)]
    return model.encode_decode(inputs, metas * len(inputs))


CASES = [
    ParityCase(
        name=f'SegNeXt MSCAN-{size.upper()} + LightHamHead',
        repo='Visual-Attention-Network+SegNeXt',
        build_original=functools.partial(build_original, name=name),
        build_ours=functools.partial(build_ours, size, name, batch),
        key_map=lambda key: key,
        original_logits=_logits,
        our_logits=_logits,
        modules=(PACKAGE, ), after_randomize=shrink_layer_scales)
    for size, name, batch in SIZES
]
