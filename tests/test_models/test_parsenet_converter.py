"""The converter of GPEN's ParseNet (= facexlib / CodeFormer
``parsing_parsenet.pth``): strict loading of a converted original, where
its tensors land, bad input, the inference config, and fine-tuning from a
converted file."""
import dataclasses
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv import Config
from mmcv.runner import load_checkpoint
from mmseg.models import build_segmentor

from published_checkpoints import synthetic_original
from small_configs import fine_tune_losses

from mmseg_face.datasets import CelebAMaskHQDataset
from mmseg_face.utils.checkpoint_converters import (PARSENET_CLASSES,
                                                    convert_parsenet,
                                                    file_sha256)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'parsenet',
                  'parsenet_gpen_512x512_celebamask-hq.py')
CONVERTER = 'tools/model_converters/parsenet.py'
NAME = 'parsenet-gpen-celebamask'


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """(original state dict, its file, the converted file)."""
    folder = tmp_path_factory.mktemp('parsenet')
    original = synthetic_original('parsenet_gpen')
    src, dst = folder / 'ParseNet-latest.pth', folder / 'out' / 'conv.pth'
    torch.save(original, src)
    return original, src, dst


def converted_file(converted, run_tool):
    """The converted file, converted here if no earlier test did."""
    _, src, dst = converted
    if not dst.exists():
        assert run_tool(['python', CONVERTER, src, dst]).returncode == 0
    return dst


def build_model():
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.norm_cfg = dict(type='BN')
    return build_segmentor(cfg.model)


def test_converted_original_loads_strictly_where_it_belongs(
        converted, run_tool):
    original, src, dst = converted
    result = run_tool(['python', CONVERTER, src, dst])
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'wrote 238 tensors' in result.stdout

    model = build_model()
    meta = load_checkpoint(model, str(dst), strict=True)['meta']
    assert meta['CLASSES'] == CelebAMaskHQDataset.CLASSES
    assert meta['PALETTE'] == CelebAMaskHQDataset.PALETTE
    assert meta['config'] == osp.relpath(CONFIG, REPO_ROOT)
    assert meta['source']['file'] == 'ParseNet-latest.pth'
    assert meta['source']['sha256'] == file_sha256(src)
    assert meta['source']['original_classes'] == PARSENET_CLASSES
    assert 'GPEN' in meta['source']['project']

    # GPEN's order is the official one: the classifier is copied unchanged.
    seg, img = model.decode_head.conv_seg.conv, model.decode_head.conv_img.conv
    assert torch.equal(seg.weight, original['out_mask_conv.conv2d.weight'])
    assert torch.equal(seg.bias, original['out_mask_conv.conv2d.bias'])
    assert torch.equal(img.weight, original['out_img_conv.conv2d.weight'])
    block = model.backbone.encoder[2]
    assert torch.equal(block.shortcut.conv.bias,
                       original['encoder.2.shortcut_func.conv2d.bias'])
    assert torch.equal(block.conv2.bn.running_var,
                       original['encoder.2.conv2.norm.norm.running_var'])
    assert torch.equal(model.backbone.body[9].conv1.conv.weight,
                       original['body.9.conv1.conv2d.weight'])
    assert torch.equal(model.backbone.decoder[3].conv1.bn.weight,
                       original['decoder.3.conv1.norm.norm.weight'])


def test_classifier_rows_follow_the_target_order():
    original = synthetic_original('parsenet_gpen')
    # Swap nose (2) and hair (13) in the wanted order, by hand.
    target = list(PARSENET_CLASSES)
    target[2], target[13] = 'hair', 'nose'
    ours = convert_parsenet(original, target)
    weight = original['out_mask_conv.conv2d.weight']
    assert torch.equal(ours['decode_head.conv_seg.conv.weight'][2], weight[13])
    assert torch.equal(ours['decode_head.conv_seg.conv.weight'][13], weight[2])
    assert torch.equal(ours['decode_head.conv_seg.conv.bias'][[0, 1, 3]],
                       original['out_mask_conv.conv2d.bias'][[0, 1, 3]])


def test_prefixed_and_wrapped_files_convert_alike():
    original = synthetic_original('parsenet_gpen')
    wrapped = {'state_dict': {f'module.{k}': v for k, v in original.items()}}
    plain = convert_parsenet(original, PARSENET_CLASSES)
    assert list(convert_parsenet(wrapped, PARSENET_CLASSES)) == list(plain)


@pytest.mark.parametrize('state_dict, message', [
    ({'backbone.conv1.weight': torch.zeros(1)},
     'not a GPEN/facexlib ParseNet checkpoint'),
    ({'out_mask_conv.conv2d.weight': torch.zeros(19, 64, 3, 3),
      'encoder.0.extra.weight': torch.zeros(1)},
     "unexpected key 'encoder.0.extra.weight'"),
    ({'out_mask_conv.conv2d.weight': torch.zeros(11, 64, 3, 3)},
     'expected a 19-class classifier'),
])
def test_a_checkpoint_of_another_layout_is_refused(
        state_dict, message, run_tool, tmp_path):
    src = tmp_path / 'other.pth'
    torch.save(state_dict, src)
    result = run_tool(['python', CONVERTER, src, tmp_path / 'out.pth'])
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if 'error:' in line]
    assert len(errors) == 1 and str(src) in errors[0], result.stderr
    assert message in errors[0]
    assert not (tmp_path / 'out.pth').exists()


def test_inference_pipeline_is_gpens_preprocessing(tmp_path):
    """cv2.resize to 512 (INTER_LINEAR), BGR->RGB, x/255*2-1, as GPEN's
    FaceParse.process, on a non-square image."""
    import cv2
    import mmcv
    from mmseg.datasets.pipelines import Compose
    image = np.random.default_rng(0).integers(
        0, 256, (300, 200, 3), dtype=np.uint8)
    path = str(tmp_path / 'face.png')
    mmcv.imwrite(image, path)
    cfg = Config.fromfile(CONFIG)
    assert cfg.face_alignment == 'celeba_hq'
    data = Compose(cfg.data.test.pipeline)(dict(img_info=dict(filename=path),
                                                img_prefix=None))
    ours = data['img'][0].numpy()
    expected = cv2.resize(image, (512, 512))[..., ::-1] / 255. * 2 - 1
    assert ours.shape == (3, 512, 512)
    np.testing.assert_allclose(ours, expected.transpose(2, 0, 1), atol=1e-6)


def test_from_pretrained_converts_a_local_gpen_file_offline(
        converted, run_tool, tmp_path, monkeypatch, capsys):
    """The registry entry's converter is the tool's: a local
    ``ParseNet-latest.pth`` (known by that name, not by its sha256) parses
    an image as the tool's output does, and its licence is printed."""
    import mmcv
    from mmseg_face.apis import PUBLISHED_MODELS, FaceParser
    src, dst = converted[1], converted_file(converted, run_tool)
    # A local address where nothing listens: reaching for it would fail.
    monkeypatch.setitem(PUBLISHED_MODELS, NAME, dataclasses.replace(
        PUBLISHED_MODELS[NAME], url='http://127.0.0.1:9/x.pth', sha256=None))
    monkeypatch.setenv('MMSEG_FACE_HOME', str(tmp_path / 'cache'))
    image = str(tmp_path / 'face.png')
    mmcv.imwrite(np.random.default_rng(0).integers(
        0, 255, (72, 64, 3), dtype=np.uint8), image)

    parser = FaceParser.from_pretrained(str(src), progress=False)
    notice = capsys.readouterr().err
    assert f'{NAME}: weights from yangxy/GPEN' in notice
    assert 'licence: non-commercial' in notice and 'CC BY-NC-SA 4.0' in notice
    assert parser.model.cfg.filename == CONFIG
    assert parser.classes == CelebAMaskHQDataset.CLASSES
    labels = parser.parse(image)
    assert labels.shape == (72, 64)
    assert np.array_equal(labels, FaceParser(CONFIG, str(dst)).parse(image))


def test_fine_tuning_a_converted_checkpoint_lowers_the_loss(
        converted, run_tool, sample_root, tmp_path):
    dst = converted_file(converted, run_tool)

    losses = fine_tune_losses(run_tool, CONFIG, dst,
                              sample_root('celebamask_hq'), tmp_path / 'work',
                              iters=20)
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5]), losses
