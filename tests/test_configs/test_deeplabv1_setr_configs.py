"""DeepLab v1 and SETR face configs: recipe, exact parameter counts and the
logit stride of SETR (DeepLab v1's: tests/test_models/test_deeplabv1.py).

SETR's parameter counts build the real ViT-L models without running them;
the forward passes use a ViT shrunk to 4 layers of width 64.
"""
import os.path as osp

import pytest
import torch
from mmcv import Config

from mmseg_face.datasets import CelebAMaskHQDataset
from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         count_parameters)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_ROOT = osp.join(REPO_ROOT, 'local_configs')
DEEPLAB = 'deeplabv1/deeplabv1_vgg16-largefov_8x2_512x512_80k_celebamask-hq.py'
DEEPLAB_CRF = ('deeplabv1/'
               'deeplabv1_vgg16-largefov-crf_8x2_512x512_80k_celebamask-hq.py')
SETR_PUP = 'setr/setr_vit-l16_pup_8x2_512x512_160k_celebamask-hq.py'
SETR_MLA = 'setr/setr_vit-l16_mla_8x2_512x512_160k_celebamask-hq.py'
CONFIGS = [DEEPLAB, DEEPLAB_CRF, SETR_PUP, SETR_MLA]
SMALL_VIT = dict(img_size=(64, 64), embed_dims=64, num_layers=4,
                 num_heads=4, out_indices=(0, 1, 2, 3))


def path(name):
    return osp.join(CONFIG_ROOT, name)


def all_heads(model_cfg):
    return [model_cfg.decode_head] + list(model_cfg.get('auxiliary_head', []))


@pytest.mark.parametrize('name', CONFIGS)
def test_face_recipe(name):
    cfg = Config.fromfile(path(name))
    pairs = [tuple(p) for p in CelebAMaskHQDataset.FLIP_PAIRS]
    assert cfg.model.type == 'FaceEncoderDecoder'
    assert [tuple(p) for p in cfg.model.flip_pairs] == pairs
    flips = [t for t in cfg.data.train.pipeline if 'Flip' in t.type]
    assert [t.type for t in flips] == ['FaceRandomFlip']
    assert [tuple(p) for p in flips[0].flip_pairs] == pairs
    assert cfg.dataset_type == 'CelebAMaskHQDataset'
    assert cfg.crop_size == (512, 512)
    assert all(h.num_classes == 19 for h in all_heads(cfg.model))
    # 8 GPUs x 2 images, the batch of 16 of both originals' recipes.
    assert cfg.data.samples_per_gpu == 2


def test_deeplabv1_recipe():
    cfg = Config.fromfile(path(DEEPLAB))
    assert cfg.model.pretrained == 'torchvision://vgg16'
    assert cfg.optimizer == dict(type='SGD', lr=1e-3, momentum=0.9,
                                 weight_decay=5e-4)
    assert cfg.lr_config == dict(policy='poly', power=0.9, min_lr=0.0,
                                 by_epoch=False, warmup='exp',
                                 warmup_iters=1000, warmup_ratio=1e-3)
    # Warm-up starts at 1e-3 * 1e-3 = 1e-6, the port's warmup_start_lr.
    assert cfg.optimizer.lr * cfg.lr_config.warmup_ratio == pytest.approx(1e-6)
    assert cfg.model.decode_head.sampler == dict(
        type='OHEMPixelSampler', thresh=0.7, min_kept=512 * 512 // 16)
    assert 'crf' not in cfg.model.test_cfg
    crf = Config.fromfile(path(DEEPLAB_CRF))
    assert crf.model.test_cfg.crf == dict(
        num_iters=10, pos_w=3, pos_xy_std=3, bi_w=4, bi_xy_std=121,
        bi_rgb_std=5)


@pytest.mark.parametrize('name', [SETR_PUP, SETR_MLA])
def test_setr_recipe(name):
    cfg = Config.fromfile(path(name))
    assert cfg.model.pretrained == 'pretrain/vit_large_p16.pth'
    assert cfg.model.backbone.img_size == (512, 512)
    assert cfg.model.backbone.drop_rate == 0
    assert cfg.optimizer == dict(
        type='SGD', lr=1e-3, momentum=0.9, weight_decay=0.0,
        paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.)}))
    assert cfg.lr_config.policy == 'poly'
    assert cfg.runner.max_iters == 160000


def test_setr_pup_parameter_count():
    """ViT-L/16 (304,147,456 with class token and the 32x32+1 position
    embedding), the SETR-PUP head and its three auxiliary SETR-UP heads."""
    model, _ = build_segmentor_from_config(path(SETR_PUP))
    assert count_parameters(model.backbone) == 304_147_456
    assert count_parameters(model.decode_head) == 4_137_747
    assert [count_parameters(h) for h in model.auxiliary_head] == \
        [2_957_075] * 3
    assert count_parameters(model) == 317_156_428


def test_setr_mla_parameter_count():
    """ViT-L/16, the MLA neck, the SETR-MLA head and its four auxiliary
    1x1 classifiers (256 -> 19) on the neck's outputs."""
    model, _ = build_segmentor_from_config(path(SETR_MLA))
    assert count_parameters(model.backbone) == 304_147_456
    assert count_parameters(model.neck) == 3_420_160
    assert count_parameters(model.decode_head) == 1_781_267
    assert [count_parameters(h) for h in model.auxiliary_head] == \
        [256 * 19 + 19] * 4
    assert count_parameters(model) == 309_368_415


def small_setr(name):
    """SETR with the 4-layer, 64-wide ViT and heads taking its width."""
    options = {f'model.backbone.{key}': value
               for key, value in SMALL_VIT.items()}
    if name == SETR_PUP:
        options['model.decode_head.in_channels'] = 64
        options.update({f'model.auxiliary_head.{i}.in_channels': 64
                        for i in range(3)})
    else:
        options['model.neck.in_channels'] = [64] * 4
    return build_segmentor_from_config(path(name), options)[0]


@pytest.mark.parametrize('name, stride', [(SETR_PUP, 1), (SETR_MLA, 4)])
def test_setr_logit_stride_and_full_size_prediction(name, stride):
    """PUP upsamples the 1/16 tokens 2x four times (full size); MLA's four
    branches upsample 4x (1/4); simple_test gives the original size."""
    model = small_setr(name)
    img = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        logits = model.decode_head(model.extract_feat(img))
        meta = dict(img_shape=(64, 64, 3), ori_shape=(80, 72, 3),
                    pad_shape=(64, 64, 3), flip=False)
        (pred, ) = model.simple_test(img, [meta], rescale=True)
    assert logits.shape == (1, 19, 64 // stride, 64 // stride)
    assert pred.shape == (80, 72)
