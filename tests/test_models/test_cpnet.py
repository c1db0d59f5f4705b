"""CPNet (R50-D8 + CPHead + FCN auxiliary): exact size, output stride, the
prior's size check, full-size simple_test and the prior loss in training."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv import Config

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         count_parameters)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'cpnet',
                  'cpnet_r50-d8_512x512_80k_celebamask-hq.py')


def cpnet(prior_size=None):
    cfg = Config.fromfile(CONFIG)
    if prior_size is not None:
        cfg.model.decode_head.prior_size = prior_size
    model, _ = build_segmentor_from_config(cfg)
    return model


def test_cpnet_parameters_match_the_official_count():
    # The survey's count of the official code (19 classes), auxiliary FCN
    # head included: ResNetV1c-50 + CPHead + FCNHead(1024 -> 256).
    model = cpnet()
    head = model.decode_head
    assert count_parameters(model.backbone) == 23_527_264
    conv_bn = lambda cin, cout, k: k * k * cin * cout + 2 * cout  # noqa
    depthwise = 11 * 512 + 512  # one 11x1 (or 1x11) conv with bias
    assert count_parameters(head.aggregation) == \
        conv_bn(2048, 512, 3) + 4 * depthwise + 2 * 512 == 9_463_808
    assert count_parameters(head.prior_conv) == conv_bn(512, 64 * 64, 1)
    assert count_parameters(head.intra_conv) == conv_bn(512, 512, 1)
    assert count_parameters(head.bottleneck) == conv_bn(3072, 512, 3)
    assert count_parameters(head) == 26_262_035
    assert count_parameters(model.auxiliary_head) == \
        conv_bn(1024, 256, 3) + 256 * 19 + 19
    assert count_parameters(model) == 52_153_990


def test_logits_at_stride_8_and_full_size_prediction():
    # A 64x64 input gives an 8x8 feature map, so the prior is 8x8 here.
    model = cpnet(prior_size=8)
    img = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        logits, prior = model.decode_head(model.extract_feat(img))
        assert logits.shape == (1, 19, 8, 8)
        assert prior.shape == (1, 64, 64)
        assert 0 <= float(prior.min()) and float(prior.max()) <= 1
        assert model.forward_dummy(img).shape == (1, 19, 64, 64)
        meta = dict(ori_shape=(64, 64, 3), img_shape=(64, 64, 3),
                    pad_shape=(64, 64, 3), flip=False)
        (prediction, ) = model.simple_test(img, [meta])
    assert prediction.shape == (64, 64)
    assert set(np.unique(prediction)) <= set(range(19))


def test_feature_map_must_match_the_prior():
    model = cpnet(prior_size=8)
    with pytest.raises(ValueError, match=r'is 12x8 but prior_size is 8x8'):
        with torch.no_grad():
            model.forward_dummy(torch.randn(1, 3, 96, 64))


def test_training_losses_include_the_prior_loss():
    model = cpnet(prior_size=8).train()
    img = torch.randn(2, 3, 64, 64)
    label = torch.randint(0, 19, (2, 1, 64, 64))
    label[:, :, :8] = 255  # a padded band
    metas = [dict(ori_shape=(64, 64, 3), img_shape=(64, 64, 3),
                  pad_shape=(64, 64, 3), flip=False)] * 2
    losses = model.forward_train(img, metas, label)
    assert {'decode.loss_ce', 'decode.loss_prior', 'aux.loss_ce'} <= \
        set(losses)
    # The prior loss alone reaches the prior conv.
    losses['decode.loss_prior'].backward()
    assert model.decode_head.prior_conv.conv.weight.grad.abs().sum() > 0
    assert model.decode_head.conv_seg.weight.grad is None
