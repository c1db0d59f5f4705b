"""ParseNet, SFNet, face BiSeNet and built-in-model face configs: recipe, one train/test
step on generated faces, and the FLOPs tool.

Every model runs at 32 px with SyncBN reverted to BN; no pretrained weight
is loaded (``init_weights`` is never called).
"""
import os.path as osp
import re

import mmcv
import pytest
import torch
from mmcv import Config

from mmseg_face.datasets import CelebAMaskHQDataset
from mmseg_face.datasets.sample_faces import make_converted_sample
from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         complexity_report, count_parameters)
from small_configs import small_config, train_step_and_simple_test

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_ROOT = osp.join(REPO_ROOT, 'local_configs')
SIZE = 32

# config -> (segmentor type, decode-head type, parameters at 19 classes).
# ParseNet is GPEN's published count; SFNet-R18 is the official count
# (hand-derived in tests/test_models/test_sfnet_head.py); SFNet-Lite is the
# official's without the parts it builds but never uses
# (tests/test_models/test_sfnet_lite.py); the face BiSeNets are the originals'
# measured counts plus 3 x 19 zero biases (tests/test_models/
# test_face_bisenet.py); the others are mmseg's models.
CONFIGS = {
    'parsenet/parsenet_1x8_512x512_80k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'ParseNetHead', 21_303_254),
    'parsenet/parsenet_gpen_512x512_celebamask-hq.py':
    ('FaceEncoderDecoder', 'ParseNetHead', 21_303_254),
    'sfnet/sfnet_r18_8xb2_512x512_56k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'SFNetHead', 12_869_715),
    'sfnet/sfnet_lite_r18_8xb2_512x512_186k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'SFNetLiteHead', 12_079_863),
    'sfnet/sfnet_lite_stdc1_8xb2_512x512_186k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'SFNetLiteHead', 6_433_623),
    'sfnet/sfnet_lite_stdc2_8xb2_512x512_186k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'SFNetLiteHead', 10_464_087),
    'face_bisenet/face_bisenet_r18_8x2_448x448_80k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'FCNHead', 13_300_473),
    'face_bisenet/face_bisenet_r34_8x2_448x448_80k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'FCNHead', 23_408_633),
    'baselines/pspnet_r50-d8_512x512_80k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'PSPHead', None),
    'baselines/deeplabv3plus_r50-d8_512x512_80k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'DepthwiseSeparableASPPHead', None),
    'baselines/bisenetv1_r18-d32_in1k-pre_4x4_512x512_160k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'FCNHead', None),
    'baselines/bisenetv2_fcn_4x4_512x512_160k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'FCNHead', None),
    'baselines/ocrnet_hr18_512x512_80k_celebamask-hq.py':
    ('CascadeEncoderDecoder', 'OCRHead', None),
    'baselines/ann_r50-d8_512x512_80k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'ANNHead', None),
    'baselines/segformer_mit-b0_512x512_160k_celebamask-hq.py':
    ('FaceEncoderDecoder', 'SegformerHead', None),
}
# The same models on LaPa (11 classes): see test_sfnet_lapa_recipe.
LAPA_CONFIGS = {
    f'sfnet/sfnet_lite_{variant}_8xb2_512x512_186k_lapa.py'
    for variant in ('r18', 'stdc1', 'stdc2')
}
SFNET_CONFIGS = sorted(name for name in CONFIGS if name.startswith('sfnet/'))


def config_path(name):
    return osp.join(CONFIG_ROOT, name)


def heads(model_cfg):
    decode = model_cfg.decode_head
    decode = decode if isinstance(decode, list) else [decode]
    aux = model_cfg.get('auxiliary_head') or []
    return decode + (aux if isinstance(aux, list) else [aux])


def test_every_config_file_is_listed():
    found = set()
    for folder in ('parsenet', 'sfnet', 'face_bisenet', 'baselines'):
        found |= {
            f'{folder}/{path}' for path in mmcv.scandir(
                osp.join(CONFIG_ROOT, folder), '.py', recursive=True)
        }
    assert found == set(CONFIGS) | LAPA_CONFIGS


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_face_recipe(name):
    segmentor, head_type, _ = CONFIGS[name]
    cfg = Config.fromfile(config_path(name))
    assert cfg.model.type == segmentor
    pairs = [tuple(p) for p in CelebAMaskHQDataset.FLIP_PAIRS]
    if segmentor == 'FaceEncoderDecoder':
        assert [tuple(p) for p in cfg.model.flip_pairs] == pairs
    flips = [t for t in cfg.data.train.pipeline if 'Flip' in t.type]
    assert [t.type for t in flips] == ['FaceRandomFlip']
    assert [tuple(p) for p in flips[0].flip_pairs] == pairs
    decode = cfg.model.decode_head
    # A cascade's last stage gives the prediction.
    assert (decode[-1] if isinstance(decode, list) else decode).type == \
        head_type
    assert all(h.num_classes == 19 for h in heads(cfg.model))
    assert cfg.dataset_type == 'CelebAMaskHQDataset'
    assert 'mmseg_face' in cfg.custom_imports.imports


def test_parsenet_recipe():
    cfg = Config.fromfile(
        config_path('parsenet/parsenet_1x8_512x512_80k_celebamask-hq.py'))
    assert cfg.optimizer == dict(
        type='Adam', lr=2e-4, betas=(0.9, 0.999), weight_decay=0)
    assert cfg.lr_config.policy == 'fixed'
    assert cfg.data.samples_per_gpu == 8
    assert cfg.find_unused_parameters
    test_steps = cfg.data.test.pipeline[1].transforms
    for steps in (cfg.data.train.pipeline, test_steps):
        norm = [t for t in steps if t.type == 'Normalize']
        assert len(norm) == 1
        assert norm[0].mean == [127.5] * 3 and norm[0].std == [127.5] * 3


@pytest.mark.parametrize('name', [n for n in CONFIGS if CONFIGS[n][2]])
def test_parameter_count(name):
    model, _ = build_segmentor_from_config(config_path(name))
    assert count_parameters(model) == CONFIGS[name][2]



@pytest.fixture(scope='module')
def sample_root(tmp_path_factory):
    base = str(tmp_path_factory.mktemp('model_config_samples'))
    return make_converted_sample('celebamask_hq', base, 10, SIZE, seed=0)


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_one_training_iteration_and_simple_test(name, sample_root):
    cfg = small_config(config_path(name), sample_root, SIZE)
    run = train_step_and_simple_test(cfg)
    result, label = run['result'], run['label']
    assert run['img_shape'] == (2, 3, SIZE, SIZE)
    assert torch.isfinite(run['loss']) and run['loss'] > 0
    assert run['changed'] > 0.5
    assert len(result) == 1 and result[0].shape == label.shape
    assert 0 <= result[0].min() and result[0].max() < 19


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_complexity_report(name):
    """What tools/get_flops.py prints, computed in-process (fast)."""
    report = complexity_report(config_path(name), (SIZE, SIZE))
    params = int(re.search(r'Parameters: ([\d,]+)', report).group(1)
                 .replace(',', ''))
    assert params > 1e6
    if CONFIGS[name][2]:
        assert params == CONFIGS[name][2]
    assert float(re.search(r'([\d.]+) GFLOPs', report).group(1)) > 0
    assert float(re.search(r'([\d.]+) GMACs', report).group(1)) > 0


@pytest.mark.parametrize('name', SFNET_CONFIGS)
def test_sfnet_official_recipe(name):
    cfg = Config.fromfile(config_path(name))
    assert cfg.optimizer == dict(
        type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)
    assert cfg.lr_config.policy == 'poly' and cfg.lr_config.power == 1.0
    assert cfg.runner.max_iters == (56000 if 'sfnet_r18' in name else 186000)
    assert cfg.data.samples_per_gpu == 2
    head = cfg.model.decode_head
    assert head.align_corners and head.dropout_ratio == 0.1
    # Official per GPU batch of 2: 10,000 (SFNet) / 100,000 (Lite) pixels.
    assert head.sampler == dict(
        type='OHEMPixelSampler', thresh=0.7,
        min_kept=5000 if 'sfnet_r18' in name else 50000)
    assert 'auxiliary_head' not in cfg.model


@pytest.mark.parametrize('name', sorted(LAPA_CONFIGS))
def test_sfnet_lapa_recipe(name):
    from mmseg_face.datasets import LaPaDataset
    cfg = Config.fromfile(config_path(name))
    celebamask = Config.fromfile(
        config_path(name.replace('_lapa.py', '_celebamask-hq.py')))
    assert cfg.dataset_type == 'LaPaDataset'
    assert cfg.model.decode_head.num_classes == len(LaPaDataset.CLASSES)
    pairs = [tuple(p) for p in LaPaDataset.FLIP_PAIRS]
    assert [tuple(p) for p in cfg.model.flip_pairs] == pairs
    flips = [t for t in cfg.data.train.pipeline if 'Flip' in t.type]
    assert [tuple(p) for p in flips[0].flip_pairs] == pairs
    assert cfg.optimizer == celebamask.optimizer
    assert cfg.model.backbone == celebamask.model.backbone


@pytest.mark.parametrize('name', SFNET_CONFIGS)
def test_get_flops_tool_runs_on_sfnet_at_512(run_tool, name):
    result = run_tool(['python', 'tools/get_flops.py', config_path(name),
                       '--shape', '512', '512'])
    assert result.returncode == 0, result.stderr[-3000:]
    assert f'Parameters: {CONFIGS[name][2]:,}' in result.stdout
