"""CPNet R50-D8 against yu-changqian/ContextPrior's ``CPHead``.

The official code is an mmseg 0.x plug-in (a config, a head and a loss
meant to be copied into mmseg's package), so the original network is
mmseg's ``EncoderDecoder`` built from the official
``config/cpnet_r50-d8.py`` with the official head. Stand-ins, none of
which changes a layer:

- the head's and loss's relative imports (``..builder``, ``..utils``,
  ``.decode_head``, ``.utils``) resolve to a small package made in the work
  folder that re-exports mmseg 0.30's ``BaseDecodeHead``,
  ``SelfAttentionBlock`` and ``weight_reduce_loss``, with registries
  scoped ``contextprior`` under mmseg's (so the official ``CPHead`` does
  not clash with ours);
- the config's ``drop_out_ratio`` (mmseg's name before 0.9) becomes
  ``dropout_ratio``, ``pretrained`` is dropped (no download) and SyncBN is
  reverted to BN.

Run as a script (``python bench/survey_parity/cpnet.py --mirror DIR``) it
also compares the official ideal affinity and affinity loss with ours on
seeded labels (ignored pixels included) and priors; there the official
loss's ``label.get_device()`` (-1 on CPU, which ``.to()`` refuses) is
answered with ``'cpu'`` while it runs.
"""
import argparse
import os
import os.path as osp
import re
import shutil
import sys
import tempfile
from unittest import mock

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from survey_parity import ParityCase, relative_error  # noqa: E402

CONFIG = 'local_configs/cpnet/cpnet_r50-d8_512x512_80k_celebamask-hq.py'
PACKAGE = 'contextprior_original'
# Files of the stand-in package: relative path -> content.
STAND_INS = {
    '__init__.py': '',
    'builder.py': (
        'from mmcv.utils import Registry\n'
        'from mmseg.models.builder import MODELS\n'
        "HEADS = LOSSES = Registry('models', parent=MODELS, "
        "scope='contextprior')\n"
        'def build_loss(cfg):\n'
        '    return LOSSES.build(cfg)\n'),
    'utils.py': 'from mmseg.models.utils import SelfAttentionBlock\n',
    'decode_heads/__init__.py': '',
    'decode_heads/decode_head.py': (
        'from mmseg.models.decode_heads.decode_head import '
        'BaseDecodeHead\n'),
    'losses/__init__.py': '',
    'losses/utils.py': (
        'from mmseg.models.losses.utils import weight_reduce_loss\n'),
}
ORIGINAL_FILES = {'decode_head/cp_head.py': 'decode_heads/cp_head.py',
                  'loss/affinity_loss.py': 'losses/affinity_loss.py'}
# The official aggregation branches -> ours.
AGGREGATION = {'t1': 'vertical_first.0', 't2': 'vertical_first.1',
               'p1': 'horizontal_first.0', 'p2': 'horizontal_first.1'}


def _rename(cfg, old, new):
    for key, value in list(cfg.items()):
        if isinstance(value, dict):
            _rename(value, old, new)
        if key == old:
            cfg[new] = cfg.pop(old)


def build_original(source_dir):
    from mmcv import Config
    from mmcv.cnn.utils import revert_sync_batchnorm
    from mmseg.models import build_segmentor
    package = osp.join(source_dir, PACKAGE)
    for path, content in STAND_INS.items():
        os.makedirs(osp.dirname(osp.join(package, path)), exist_ok=True)
        with open(osp.join(package, path), 'w') as file:
            file.write(content)
    for original, path in ORIGINAL_FILES.items():
        shutil.copy(osp.join(source_dir, original), osp.join(package, path))
    __import__(f'{PACKAGE}.decode_heads.cp_head')
    __import__(f'{PACKAGE}.losses.affinity_loss')
    cfg = Config.fromfile(osp.join(source_dir, 'config', 'cpnet_r50-d8.py'))
    cfg.model.pretrained = None
    cfg.model.decode_head.type = 'contextprior.CPHead'
    cfg.model.decode_head.loss_prior_decode.type = 'contextprior.AffinityLoss'
    _rename(cfg.model, 'drop_out_ratio', 'dropout_ratio')
    return revert_sync_batchnorm(build_segmentor(
        cfg.model, train_cfg=cfg.train_cfg, test_cfg=cfg.test_cfg))


def build_ours():
    from mmseg_face.utils.complexity import build_segmentor_from_config
    return build_segmentor_from_config(CONFIG)[0]


def key_map(key):
    match = re.match(r'decode_head\.aggregation\.(t1|t2|p1|p2)\.(.+)$', key)
    if match:
        return (f'decode_head.aggregation.{AGGREGATION[match[1]]}.'
                f'{match[2]}')
    return key


CASES = [
    ParityCase(
        name='CPNet R50-D8 (prior 64, aux)',
        repo='yu-changqian+ContextPrior',
        build_original=build_original,
        build_ours=build_ours,
        key_map=key_map,
        original_logits=lambda model, x: model.encode_decode(x, [{}]),
        our_logits=lambda model, x: model.encode_decode(x, [{}]),
        input_shape=(1, 3, 512, 512),
        modules=(PACKAGE, ))
]


def compare_losses(mirror):
    """Max relative error of our ideal affinity and affinity loss against
    the official ones, over a few seeded batches."""
    from parity_vs_original import extract_snapshot

    from mmseg_face.models.losses.affinity_loss import (AffinityLoss,
                                                        ideal_affinity)
    errors = dict(affinity=0.0, loss=0.0)
    with tempfile.TemporaryDirectory() as workdir:
        source_dir, _ = extract_snapshot(mirror, CASES[0].repo, workdir)
        sys.path.insert(0, source_dir)
        head = build_original(source_dir).decode_head
        generator = torch.Generator().manual_seed(0)
        for batch_size in (2, 3):
            label = torch.randint(0, 19, (batch_size, 1, 64, 64),
                                  generator=generator)
            label[:, :, 40:] = 255
            prior = torch.rand(batch_size, 64, 64, generator=generator)
            expected_affinity = head._construct_ideal_affinity_matrix(
                label, (8, 8))
            affinity = ideal_affinity(label, (8, 8), 19)
            errors['affinity'] = max(errors['affinity'], float(
                (expected_affinity - affinity).abs().max()))
            with mock.patch.object(torch.Tensor, 'get_device',
                                   lambda tensor: 'cpu'):
                expected = head.loss_prior_decode(prior, expected_affinity)
            got = AffinityLoss()(prior, affinity)
            if not torch.isfinite(expected):
                raise ValueError(f'the official loss is {float(expected)}')
            errors['loss'] = max(errors['loss'],
                                 relative_error(expected, got))
            errors[f'official loss, batch of {batch_size}'] = float(expected)
    return errors


if __name__ == '__main__':
    parser = argparse.ArgumentParser(
        description="CPNet's ideal affinity and affinity loss against the "
        'official code')
    parser.add_argument('--mirror', required=True,
                        help='folder holding the fetched snapshots')
    import mmseg_face  # noqa: F401
    print(compare_losses(parser.parse_args().mirror))
