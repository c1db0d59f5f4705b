"""The converter of e4s2022/SegNeXt-FaceParser (MSCAN + LightHamHead):
strict loading of a converted original in the original's mmcv file format,
the 150 -> 19 classifier slice, the class order, the size detection, bad
input, the registry entries, and ``FaceParser.from_pretrained`` on a local
file."""
import dataclasses
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv import Config
from mmcv.runner import load_checkpoint
from mmseg.models import build_segmentor

from published_checkpoints import synthetic_original

from mmseg_face.datasets import CelebAMaskHQDataset
from mmseg_face.utils.complexity import count_parameters
from mmseg_face.utils.segnext_converter import (SEGNEXT_FACEPARSER_CLASSES,
                                                SEGNEXT_FACEPARSER_CONFIGS,
                                                convert_segnext_faceparser)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONVERTER = 'tools/model_converters/segnext_faceparser.py'
TINY_FILE = 'segnext.tiny.best_mIoU_iter_160000.pth'
NAME = 'segnext-tiny-e4s-celebamask'
# The ham_kwargs line of the original tiny and small training configs.
TINY_CONFIG_TEXT = 'model = dict(decode_head=dict(ham_kwargs=dict(MD_R=16)))'


def mmcv_file(state_dict, config_text=TINY_CONFIG_TEXT):
    """The original's file layout: mmcv's ``{meta, state_dict, optimizer}``
    with mmseg's meta and the numpy best score of ``EvalHook``."""
    return dict(
        meta=dict(mmseg_version='0.24.1', config=config_text,
                  CLASSES=SEGNEXT_FACEPARSER_CLASSES,
                  hook_msgs=dict(best_score=np.float64(0.7786))),
        state_dict=state_dict,
        optimizer=dict(state={}, param_groups=[dict(lr=6e-5, params=[0])]))


def build_model(size):
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, SEGNEXT_FACEPARSER_CONFIGS[size]))
    cfg.model.backbone.norm_cfg = dict(type='BN')
    return build_segmentor(cfg.model)


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """(original tiny state dict, its file, the converted file)."""
    folder = tmp_path_factory.mktemp('segnext')
    original = synthetic_original('segnext_faceparser_t')
    src, dst = folder / TINY_FILE, folder / 'out' / 'conv.pth'
    torch.save(mmcv_file(original), src)
    return original, src, dst


def converted_file(converted, run_tool):
    _, src, dst = converted
    if not dst.exists():
        assert run_tool(['python', CONVERTER, src, dst]).returncode == 0
    return dst


def test_converted_tiny_loads_strictly_with_its_classifier_sliced(
        converted, run_tool):
    from mmseg_face.utils.checkpoint_converters import file_sha256
    original, src, dst = converted
    # The original tiny file's head has 150 outputs (an ADE20K leftover).
    assert original['decode_head.conv_seg.weight'].shape == (150, 256, 1, 1)
    result = run_tool(['python', CONVERTER, src, dst])
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'SegNeXt-tiny, MD_R=16, classifier sliced 150 -> 19' in \
        result.stdout

    model = build_model('t')
    meta = load_checkpoint(model, str(dst), strict=True)['meta']
    assert meta['CLASSES'] == CelebAMaskHQDataset.CLASSES
    assert meta['PALETTE'] == CelebAMaskHQDataset.PALETTE
    assert meta['config'] == SEGNEXT_FACEPARSER_CONFIGS['t']
    assert meta['source']['file'] == TINY_FILE
    assert meta['source']['sha256'] == file_sha256(src)
    assert meta['source']['original_classes'] == SEGNEXT_FACEPARSER_CLASSES
    assert meta['source']['original_outputs'] == 150
    assert meta['source']['project'] == 'e4s2022/SegNeXt-FaceParser'

    # The official order is the original's: rows 0..18 kept in place.
    seg = model.decode_head.conv_seg
    assert torch.equal(seg.weight,
                       original['decode_head.conv_seg.weight'][:19])
    assert torch.equal(seg.bias, original['decode_head.conv_seg.bias'][:19])
    block = model.backbone.block3[4]
    assert torch.equal(
        block.attn.spatial_gating_unit.conv2_1.weight,
        original['backbone.block3.4.attn.spatial_gating_unit.conv2_1.weight'])
    assert torch.equal(block.layer_scale_2,
                       original['backbone.block3.4.layer_scale_2'])
    assert torch.equal(model.decode_head.hamburger.ham_out.gn.bias,
                       original['decode_head.hamburger.ham_out.gn.bias'])
    # The converter stores the NMF bases the head draws for itself.
    assert torch.equal(model.decode_head.hamburger.ham.fixed_bases,
                       build_model('t').decode_head.hamburger.ham.fixed_bases)


def test_classifier_rows_follow_the_target_order_by_name():
    original = synthetic_original('segnext_faceparser_s')
    # Swap nose (2) and hair (13) in the wanted order, by hand; the
    # original's 'backgound' is our 'background'.
    target = list(CelebAMaskHQDataset.CLASSES)
    target[2], target[13] = 'hair', 'nose'
    ours, source = convert_segnext_faceparser(original, target)
    weight = original['decode_head.conv_seg.weight']
    bias = original['decode_head.conv_seg.bias']
    assert source == dict(size='s', md_r=16, original_outputs=19)
    assert torch.equal(ours['decode_head.conv_seg.weight'][2], weight[13])
    assert torch.equal(ours['decode_head.conv_seg.weight'][13], weight[2])
    assert torch.equal(ours['decode_head.conv_seg.bias'][[0, 1, 3, 18]],
                       bias[[0, 1, 3, 18]])


def test_a_150_output_classifier_keeps_its_first_19_rows():
    original = synthetic_original('segnext_faceparser_s')
    weight = torch.arange(150 * 256, dtype=torch.float32).view(150, 256, 1, 1)
    original['decode_head.conv_seg.weight'] = weight
    original['decode_head.conv_seg.bias'] = torch.arange(150.)
    ours, source = convert_segnext_faceparser(
        original, CelebAMaskHQDataset.CLASSES)
    assert source['original_outputs'] == 150
    assert torch.equal(ours['decode_head.conv_seg.weight'], weight[:19])
    assert torch.equal(ours['decode_head.conv_seg.bias'], torch.arange(19.))


@pytest.mark.parametrize('size, config_text, md_r', [
    ('b', 'model = dict(decode_head=dict(channels=512))', 64),
    ('l', None, 64),
])
def test_base_and_large_are_told_by_their_weights(size, config_text, md_r):
    original = synthetic_original(f'segnext_faceparser_{size}')
    checkpoint = mmcv_file(original, config_text) if config_text else original
    ours, source = convert_segnext_faceparser(
        checkpoint, CelebAMaskHQDataset.CLASSES)
    assert source == dict(size=size, md_r=md_r, original_outputs=150)
    assert ours['decode_head.conv_seg.weight'].shape[0] == 19
    assert ours['decode_head.hamburger.ham.fixed_bases'].shape[-1] == md_r


def test_the_converted_models_have_the_original_parameter_counts():
    """Whole segmentors, 19-class classifiers, no auxiliary head: the
    original face models with their classifier cut to 19 outputs."""
    counts = {'t': 4_229_747, 's': 13_899_219, 'b': 27_569_107,
              'l': 48_792_275}
    assert {size: count_parameters(build_model(size))
            for size in counts} == counts


def _tiny(**changes):
    state_dict = synthetic_original('segnext_faceparser_t')
    state_dict.update(changes)
    return state_dict


@pytest.mark.parametrize('checkpoint, message', [
    ({'backbone.conv1.weight': torch.zeros(1)},
     'not a SegNeXt (MSCAN + LightHamHead) checkpoint'),
    (_tiny(**{'auxiliary_head.conv_seg.weight': torch.zeros(19, 8, 1, 1)}),
     "unexpected key 'auxiliary_head.conv_seg.weight'"),
    (_tiny(**{'decode_head.conv_seg.weight': torch.zeros(11, 256, 1, 1)}),
     'expected a classifier of 19 outputs (or 150'),
    (mmcv_file(_tiny(), 'model = dict(decode_head=dict(channels=256))'),
     'trained the tiny model with MD_R=64'),
])
def test_a_checkpoint_of_another_layout_is_refused(
        checkpoint, message, run_tool, tmp_path):
    src = tmp_path / 'other.pth'
    torch.save(checkpoint, src)
    result = run_tool(['python', CONVERTER, src, tmp_path / 'out.pth'])
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if 'error:' in line]
    assert len(errors) == 1 and str(src) in errors[0], result.stderr
    assert message in errors[0]
    assert not (tmp_path / 'out.pth').exists()


def test_a_name_says_where_to_download_and_fetches_nothing(
        tmp_path, monkeypatch):
    from mmseg_face.apis import PUBLISHED_MODELS, PublishedModelError
    from mmseg_face.apis import published_models

    def no_download(*args, **kwargs):
        raise AssertionError('a Google Drive page was fetched')

    monkeypatch.setattr(published_models, 'download', no_download)
    monkeypatch.setenv('MMSEG_FACE_HOME', str(tmp_path / 'cache'))
    for size, name in zip('tsbl', ('tiny', 'small', 'base', 'large')):
        model = PUBLISHED_MODELS[f'segnext-{name}-e4s-celebamask']
        assert model.config == SEGNEXT_FACEPARSER_CONFIGS[size]
        assert model.url.startswith('https://drive.google.com/')
        with pytest.raises(PublishedModelError) as error:
            published_models.resolve_published_model(model.name)
        message = str(error.value)
        assert model.file in message and model.url in message
        assert 'pass its local path' in message


def test_from_pretrained_converts_a_local_file_offline(
        converted, run_tool, tmp_path, monkeypatch, capsys):
    """A local ``segnext.tiny.best_mIoU_iter_160000.pth`` (known by its
    name) parses an image as the tool's output does; the licence is
    printed."""
    import mmcv
    from mmseg_face.apis import PUBLISHED_MODELS, FaceParser
    src, dst = converted[1], converted_file(converted, run_tool)
    monkeypatch.setitem(PUBLISHED_MODELS, NAME, dataclasses.replace(
        PUBLISHED_MODELS[NAME], url='http://127.0.0.1:9/x.pth'))
    monkeypatch.setenv('MMSEG_FACE_HOME', str(tmp_path / 'cache'))
    image = str(tmp_path / 'face.png')
    mmcv.imwrite(np.random.default_rng(0).integers(
        0, 255, (72, 64, 3), dtype=np.uint8), image)

    parser = FaceParser.from_pretrained(str(src), progress=False)
    notice = capsys.readouterr().err
    assert f'{NAME}: weights from e4s2022/SegNeXt-FaceParser' in notice
    assert 'Apache-2.0' in notice and 'contact the authors' in notice
    assert parser.classes == CelebAMaskHQDataset.CLASSES
    labels = parser.parse(image)
    assert labels.shape == (72, 64)
    config = osp.join(REPO_ROOT, SEGNEXT_FACEPARSER_CONFIGS['t'])
    assert np.array_equal(labels, FaceParser(config, str(dst)).parse(image))
