"""DeepLab v1 LargeFOV: VGGDeepLabV1 backbone, DeepLabV1Head, its config."""
import math
import os.path as osp

import pytest
import torch
import torchvision
from mmcv import Config
from mmseg.models import build_backbone, build_head, build_segmentor

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         count_parameters)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'deeplabv1',
                  'deeplabv1_vgg16-largefov_8x2_512x512_80k_celebamask-hq.py')


def conv_params(in_channels, out_channels, kernel_size):
    return in_channels * out_channels * kernel_size**2 + out_channels


def test_parameter_count_is_the_largefov_replica():
    """Backbone and decode head only: DeepLab v1 has no auxiliary head."""
    vgg16 = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256),
             (256, 256), (256, 256), (256, 512), (512, 512), (512, 512),
             (512, 512), (512, 512), (512, 512)]
    backbone = sum(conv_params(i, o, 3) for i, o in vgg16)
    fc6, fc7, fc8 = (conv_params(512, 1024, 3), conv_params(1024, 1024, 1),
                     conv_params(1024, 19, 1))
    assert (backbone, fc6, fc7, fc8) == (14_714_688, 4_719_616, 1_049_600,
                                         19_475)
    model, cfg = build_segmentor_from_config(CONFIG)
    assert 'auxiliary_head' not in cfg.model
    assert count_parameters(model.backbone) == backbone
    assert count_parameters(model.decode_head) == fc6 + fc7 + fc8
    assert count_parameters(model) == 20_503_379


@pytest.mark.parametrize('size, stride8', [(64, 8), (100, 13)])
def test_backbone_output_stride_8(size, stride8):
    """pool1-3 halve (rounding down: 100 -> 50 -> 25 -> 13, where Caffe's
    rounding up gives 14); pool4/5 and the dilated conv5 keep the size."""
    backbone = build_backbone(dict(type='VGGDeepLabV1')).eval()
    with torch.no_grad():
        (out, ) = backbone(torch.randn(1, 3, size, size))
    assert out.shape == (1, 512, stride8, stride8)
    pools = [m for m in backbone.features if isinstance(m, torch.nn.MaxPool2d)]
    assert [p.stride for p in pools] == [2, 2, 2, 1, 1]
    dilations = [m.dilation[0] for m in backbone.features
                 if isinstance(m, torch.nn.Conv2d)]
    assert dilations == [1] * 10 + [2] * 3


def test_logits_at_stride_8_and_full_size_prediction():
    model, _ = build_segmentor_from_config(CONFIG)
    img = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feats = model.extract_feat(img)
        assert model.decode_head(feats).shape == (1, 19, 8, 8)
        meta = dict(img_shape=(64, 64, 3), ori_shape=(80, 72, 3),
                    pad_shape=(64, 64, 3), flip=False)
        (pred, ) = model.simple_test(img, [meta], rescale=True)
    assert pred.shape == (80, 72)
    assert 0 <= pred.min() and pred.max() < 19


def test_torchvision_vgg16_initialises_the_backbone(tmp_path):
    """torchvision's key layout loads unchanged; the head gets He-normal
    weights of gain 1 (std 1/sqrt(fan_in)) and zero biases."""
    torch.manual_seed(0)
    vgg16 = torchvision.models.vgg16()
    path = str(tmp_path / 'vgg16.pth')
    torch.save(vgg16.state_dict(), path)
    cfg = Config.fromfile(CONFIG)
    assert cfg.model.pretrained == 'torchvision://vgg16'
    cfg.model.pretrained = path
    model = build_segmentor(cfg.model)
    model.init_weights()
    expected = vgg16.features.state_dict()
    got = model.backbone.features.state_dict()
    assert list(got) == list(expected)
    assert all(torch.equal(got[k], expected[k]) for k in expected)
    head = model.decode_head
    for conv, fan_in in ((head.fc6, 512 * 9), (head.fc7, 1024),
                         (head.conv_seg, 1024)):
        assert float(conv.weight.detach().std()) == pytest.approx(
            1 / math.sqrt(fan_in), rel=0.05)
        assert not conv.bias.any()


def test_ohem_keeps_the_ports_pixels_averaged_over_all():
    """The config's OHEM keeps the pixels the port's OhemCELoss keeps (true-
    class probability under 0.7, at least min_kept) but divides their loss
    sum by all 6 pixels, where the port divides by the 3 kept ones."""
    cfg = Config.fromfile(CONFIG).model.decode_head
    assert cfg.sampler.thresh == 0.7
    cfg.sampler.min_kept = 2
    head = build_head(cfg)
    probs = torch.tensor([[0.9, 0.6, 0.2], [0.8, 0.5, 0.5]])
    label = torch.tensor([[[[1, 0, 1], [0, 255, 1]]]])
    # The label gets logit log(p / (1 - p)) and one other class 0, so the
    # label's softmax probability is p; the 17 other classes get -1e4.
    logits = torch.full((1, 19, 2, 3), -1e4)
    true_logit = torch.log(probs / (1 - probs))
    for row in range(2):
        for col in range(3):
            cls = int(label[0, 0, row, col]) % 255
            logits[0, cls, row, col] = true_logit[row, col]
            logits[0, 1 - cls, row, col] = 0.0
    losses = head.losses(logits, label)
    kept = -(math.log(0.6) + math.log(0.2) + math.log(0.5))
    assert float(losses['loss_ce']) == pytest.approx(kept / 6, rel=1e-5)


def test_bad_arguments_name_the_problem():
    with pytest.raises(TypeError, match='pretrained must be a checkpoint'):
        build_backbone(dict(type='VGGDeepLabV1', pretrained=3))
    with pytest.raises(ValueError, match='not both'):
        build_backbone(
            dict(type='VGGDeepLabV1', pretrained='a.pth',
                 init_cfg=dict(type='Pretrained', checkpoint='b.pth')))
    with pytest.raises(ValueError, match='norm_cfg must be None'):
        build_head(
            dict(type='DeepLabV1Head', in_channels=512, channels=16,
                 num_classes=19, norm_cfg=dict(type='BN')))
