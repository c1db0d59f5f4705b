"""The converter of the Hugging Face SegFormer face parser
(jonathandinu/face-parsing): ``model.safetensors`` and ``pytorch_model.bin``
load strictly where they belong, the class reordering, bad input, and the
registry's offline path."""
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
from mmseg_face.utils.checkpoint import CheckpointError
from mmseg_face.utils.checkpoint_converters import file_sha256
from mmseg_face.utils.segformer_converter import (
    SEGFORMER_FACE_CLASSES, convert_segformer_faceparser,
    convert_segformer_faceparser_file)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'segformer',
                  'segformer_mlp_mit-b5_8x2_512x512_160k_celebamask-hq.py')
CONVERTER = 'tools/model_converters/segformer_faceparser.py'
NAME = 'segformer-b5-jonathandinu-celebamask'
FIXTURE = 'segformer_b5_face'
BLOCK = 'segformer.encoder.block.2.17.'


@pytest.fixture(scope='module')
def originals(tmp_path_factory):
    """(original state dict, its model.safetensors, its pytorch_model.bin,
    the folder for converted files)."""
    from safetensors.torch import save_file
    folder = tmp_path_factory.mktemp('segformer')
    original = synthetic_original(FIXTURE)
    safetensors, pytorch = folder / 'model.safetensors', \
        folder / 'pytorch_model.bin'
    save_file(original, str(safetensors))
    torch.save(original, pytorch)
    return original, safetensors, pytorch, folder / 'out'


def converted_file(originals, run_tool, source=1):
    """The conversion of ``originals[source]``, converted here if no earlier
    test did."""
    src = originals[source]
    dst = originals[3] / f'{src.name}.pth'
    if not dst.exists():
        result = run_tool(['python', CONVERTER, src, dst])
        assert result.returncode == 0, result.stderr[-3000:]
        assert 'wrote 964 tensors' in result.stdout
    return dst


def build_model():
    cfg = Config.fromfile(CONFIG)
    cfg.model.decode_head.norm_cfg = dict(type='BN')
    return build_segmentor(cfg.model)


def test_converted_safetensors_load_strictly_where_they_belong(
        originals, run_tool):
    original, src = originals[:2]
    dst = converted_file(originals, run_tool)

    model = build_model()
    meta = load_checkpoint(model, str(dst), strict=True)['meta']
    assert meta['CLASSES'] == CelebAMaskHQDataset.CLASSES
    assert meta['PALETTE'] == CelebAMaskHQDataset.PALETTE
    assert meta['config'] == osp.relpath(CONFIG, REPO_ROOT)
    assert meta['source']['file'] == 'model.safetensors'
    assert meta['source']['sha256'] == file_sha256(src)
    assert meta['source']['original_classes'] == SEGFORMER_FACE_CLASSES
    assert 'jonathandinu/face-parsing' in meta['source']['project']

    block = model.backbone.layers[2][1][17]
    in_proj = block.attn.attn.in_proj_weight
    assert torch.equal(in_proj[:320], original[BLOCK +
                                               'attention.self.query.weight'])
    assert torch.equal(in_proj[320:640],
                       original[BLOCK + 'attention.self.key.weight'])
    assert torch.equal(block.attn.attn.in_proj_bias[640:],
                       original[BLOCK + 'attention.self.value.bias'])
    assert torch.equal(block.attn.attn.out_proj.weight,
                       original[BLOCK + 'attention.output.dense.weight'])
    assert torch.equal(block.attn.sr.weight,
                       original[BLOCK + 'attention.self.sr.weight'])
    assert torch.equal(block.attn.norm.bias,
                       original[BLOCK + 'attention.self.layer_norm.bias'])
    assert torch.equal(block.norm2.weight,
                       original[BLOCK + 'layer_norm_2.weight'])
    # Linear weights (out, in) become 1x1 convolutions (out, in, 1, 1).
    assert torch.equal(block.ffn.layers[4].weight[:, :, 0, 0],
                       original[BLOCK + 'mlp.dense2.weight'])
    assert torch.equal(block.ffn.layers[1].weight,
                       original[BLOCK + 'mlp.dwconv.dwconv.weight'])
    assert torch.equal(model.backbone.layers[0][0].projection.weight,
                       original['segformer.encoder.patch_embeddings.0.proj.'
                                'weight'])
    assert torch.equal(model.backbone.layers[3][2].weight,
                       original['segformer.encoder.layer_norm.3.weight'])
    head = model.decode_head
    assert torch.equal(head.linear_projections[1].weight,
                       original['decode_head.linear_c.1.proj.weight'])
    assert torch.equal(head.fuse.conv.weight,
                       original['decode_head.linear_fuse.weight'])
    assert torch.equal(head.fuse.bn.running_var,
                       original['decode_head.batch_norm.running_var'])
    # The hub's order is the official one: the classifier is unchanged.
    assert torch.equal(head.conv_seg.weight,
                       original['decode_head.classifier.weight'])


def test_pytorch_model_bin_converts_as_the_safetensors(originals, run_tool):
    from safetensors.torch import save_file
    ours = torch.load(converted_file(originals, run_tool),
                      weights_only=True)['state_dict']
    from_bin = torch.load(converted_file(originals, run_tool, source=2),
                          weights_only=True)
    assert from_bin['meta']['source']['file'] == 'pytorch_model.bin'
    assert list(from_bin['state_dict']) == list(ours)
    assert all(torch.equal(value, ours[key])
               for key, value in from_bin['state_dict'].items())
    # The format follows from the content, not the name.
    renamed = originals[3] / 'weights.bin'
    save_file({'decode_head.classifier.weight': torch.zeros(1)},
              str(renamed))
    with pytest.raises(CheckpointError, match='not a Hugging Face Segformer'):
        convert_segformer_faceparser_file(str(renamed),
                                          str(originals[3] / 'x.pth'))


def test_classifier_rows_follow_the_target_order():
    original = synthetic_original(FIXTURE)
    # Swap nose (2) and hair (13) in the wanted order, by hand.
    target = list(SEGFORMER_FACE_CLASSES)
    target[2], target[13] = 'hair', 'nose'
    ours = convert_segformer_faceparser(original, target)
    weight = original['decode_head.classifier.weight']
    bias = original['decode_head.classifier.bias']
    assert torch.equal(ours['decode_head.conv_seg.weight'][2], weight[13])
    assert torch.equal(ours['decode_head.conv_seg.weight'][13], weight[2])
    assert torch.equal(ours['decode_head.conv_seg.bias'][13], bias[2])
    assert torch.equal(ours['decode_head.conv_seg.bias'][[0, 1, 3, 18]],
                       bias[[0, 1, 3, 18]])


def _without(state_dict, key):
    return {k: v for k, v in state_dict.items() if k != key}


@pytest.mark.parametrize('edit, message', [
    (lambda sd: {'backbone.layers.0.0.projection.weight': torch.zeros(1)},
     'not a Hugging Face SegformerForSemanticSegmentation checkpoint'),
    (lambda sd: dict(sd, **{'segformer.encoder.extra.weight':
                            torch.zeros(1)}),
     "unexpected key 'segformer.encoder.extra.weight'"),
    (lambda sd: _without(sd, BLOCK + 'attention.self.value.weight'),
     'segformer.encoder.block.2.17.attention.self: the weight of value is '
     'missing'),
    (lambda sd: dict(sd, **{'decode_head.classifier.weight':
                            torch.zeros(11, 768, 1, 1)}),
     'expected a 19-class classifier, found 11'),
])
def test_a_checkpoint_of_another_layout_is_refused(
        edit, message, run_tool, tmp_path):
    from safetensors.torch import save_file
    src = tmp_path / 'model.safetensors'
    save_file(edit(synthetic_original(FIXTURE)), str(src))
    result = run_tool(['python', CONVERTER, src, tmp_path / 'out.pth'])
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if 'error:' in line]
    assert len(errors) == 1 and str(src) in errors[0], result.stderr
    assert message in errors[0]
    assert not (tmp_path / 'out.pth').exists()


def test_a_damaged_safetensors_file_is_named(run_tool, tmp_path):
    src = tmp_path / 'model.safetensors'
    # A header length within the file, but the header cut short.
    src.write_bytes((40).to_bytes(8, 'little') + b'{"a": {"dtype": "F32", ' +
                    b'\0' * 20)
    result = run_tool(['python', CONVERTER, src, tmp_path / 'out.pth'])
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if 'error:' in line]
    assert len(errors) == 1 and str(src) in errors[0], result.stderr
    assert 'damaged safetensors file' in errors[0]


def test_from_pretrained_converts_a_local_hub_file_offline(
        originals, run_tool, tmp_path, monkeypatch, capsys):
    """The registry entry's converter is the tool's: a local
    ``model.safetensors`` (known by that name) gives the tool's weights and
    parses an image; its licence is printed."""
    import mmcv
    from mmseg_face.apis import PUBLISHED_MODELS, FaceParser
    src, dst = originals[1], converted_file(originals, run_tool)
    # A local address where nothing listens: reaching for it would fail.
    monkeypatch.setitem(PUBLISHED_MODELS, NAME, dataclasses.replace(
        PUBLISHED_MODELS[NAME], url='http://127.0.0.1:9/x.safetensors'))
    monkeypatch.setenv('MMSEG_FACE_HOME', str(tmp_path / 'cache'))
    image = str(tmp_path / 'face.png')
    mmcv.imwrite(np.random.default_rng(0).integers(
        0, 255, (72, 64, 3), dtype=np.uint8), image)

    parser = FaceParser.from_pretrained(str(src), progress=False,
                                        optimize=False)
    notice = capsys.readouterr().err
    assert f'{NAME}: weights from jonathandinu/face-parsing' in notice
    assert 'CC0-1.0' in notice and 'non-commercial' in notice
    assert parser.model.cfg.filename == CONFIG
    assert parser.classes == CelebAMaskHQDataset.CLASSES
    expected = torch.load(dst, weights_only=True)['state_dict']
    assert all(torch.equal(value, expected[key])
               for key, value in parser.model.state_dict().items())
    assert parser.parse(image).shape == (72, 64)
