"""facer's FaRL parsers: FaRLViT, the model's exact size, the TorchScript
converter (key map, class order, bad input), the registry entries and a
short training run.

The converter tests build TorchScript originals from the key fixtures
(``tests/data/published_checkpoints/farl_*.json``, written by
``bench/parity_vs_original.py --write-fixtures`` from FaRL's code) at a
small width (768 -> 32), so that the key map is tested whole, strictly,
without 160M random numbers; the full-size shapes are checked against the
full model on the meta device.
"""
import json
import os.path as osp
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmcv import Config
from mmseg.models import build_segmentor

from published_checkpoints import FIXTURES_DIR
from small_configs import dist_train_on_one_batch

from mmseg_face.apis import PUBLISHED_MODELS
from mmseg_face.datasets import CelebAMaskHQDataset, LaPaDataset
from mmseg_face.models.backbones import FaRLViT
from mmseg_face.models.backbones.farl_vit import QuickGELU
from mmseg_face.utils.farl_converter import (CLIP_MEAN, CLIP_STD,
                                             FARL_CELEBM_CLASSES,
                                             FARL_CONFIGS, convert_farl,
                                             load_farl_state_dict)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {model: osp.join(REPO_ROOT, path)
           for model, path in FARL_CONFIGS.items()}
CONVERTER = 'tools/model_converters/farl.py'
WIDTH = 32  # for 768
SMALL_SIZE = 64  # 4 x 4 patches


def fixture(model):
    with open(osp.join(FIXTURES_DIR, f'farl_{model}.json')) as file:
        return [(key, tuple(shape)) for key, shape, _ in
                json.load(file)['keys']]


def small_shape(key, shape):
    """768-multiples -> 32-multiples; 28 x 28 + 1 tokens -> 4 x 4 + 1."""
    if key.endswith('positional_embedding'):
        return ((SMALL_SIZE // 16)**2 + 1, WIDTH)
    return tuple(d // 768 * WIDTH if d % 768 == 0 else d for d in shape)


def synthetic_state_dict(model, seed=0):
    """The original's keys with seeded values (CLIP's normalisation
    buffers, positive BN variances)."""
    generator = torch.Generator().manual_seed(seed)
    state_dict = OrderedDict()
    for key, shape in fixture(model):
        shape = small_shape(key, shape)
        if key == 'backbone.image_mean':
            value = torch.tensor(CLIP_MEAN).view(shape)
        elif key == 'backbone.image_std':
            value = torch.tensor(CLIP_STD).view(shape)
        elif key.endswith('num_batches_tracked'):
            value = torch.zeros(shape, dtype=torch.int64)
        elif key.endswith('running_var'):
            value = torch.rand(shape, generator=generator) + 0.5
        else:
            value = torch.randn(shape, generator=generator) * 0.05
        state_dict[key] = value
    return state_dict


def save_as_torchscript(state_dict, path):
    """A scripted module holding these tensors under these names, saved as
    facer's releases are (read back with ``torch.jit.load``)."""
    root = nn.Module()
    for key, value in state_dict.items():
        *path_names, name = key.split('.')
        module = root
        for part in path_names:
            if not hasattr(module, part):
                module.add_module(part, nn.Module())
            module = getattr(module, part)
        if value.is_floating_point() and 'running_' not in name and \
                name not in ('image_mean', 'image_std'):
            module.register_parameter(name, nn.Parameter(value))
        else:
            module.register_buffer(name, value)
    torch.jit.save(torch.jit.script(root), str(path))


def small_model(model):
    cfg = Config.fromfile(CONFIGS[model])
    cfg.model.backbone.update(img_size=SMALL_SIZE, embed_dims=WIDTH,
                              num_heads=2)
    cfg.model.neck.update(embed_dim=WIDTH, norm_cfg=dict(type='BN'))
    cfg.model.decode_head.update(in_channels=[WIDTH] * 4, channels=WIDTH,
                                 norm_cfg=dict(type='BN'))
    cfg.model.logit_size = (SMALL_SIZE, SMALL_SIZE)
    return build_segmentor(cfg.model).eval()


def full_model(model):
    cfg = Config.fromfile(CONFIGS[model])
    cfg.model.neck.norm_cfg = cfg.model.decode_head.norm_cfg = dict(
        type='BN')
    return build_segmentor(cfg.model)


@pytest.mark.parametrize('model, classes, params', [
    ('celebm', 19, 161_194_003),
    ('lapa', 11, 161_187_851),
])
def test_full_model_size_and_key_map(model, classes, params):
    """Counted: the ViT (patch embedding without bias, class token, 785
    position embeddings, pre-norm, 12 blocks), Feature2Pyramid's two
    transposed-conv stacks with their BN, and UPerHead with its classifier.
    Not in the model: CLIP's ln_post and proj (394,752 parameters of the
    original, unused by the parser), dropped by the converter."""
    ours = full_model(model)
    assert ours.decode_head.num_classes == classes
    assert sum(p.numel() for p in ours.parameters()) == params
    original = OrderedDict(
        (key, torch.empty(shape, device='meta'))
        for key, shape in fixture(model))
    for key in ('backbone.image_mean', 'backbone.image_std'):
        original[key] = torch.tensor(
            CLIP_MEAN if key.endswith('mean') else CLIP_STD).view(1, 3, 1, 1)
    converted, kind = convert_farl(original, CelebAMaskHQDataset.CLASSES)
    assert kind == model
    expected = {key: tuple(value.shape)
                for key, value in ours.state_dict().items()}
    assert {key: tuple(value.shape)
            for key, value in converted.items()} == expected
    dropped = sum(int(np.prod(shape)) for key, shape in fixture(model)
                  if key.startswith(('backbone.visual.ln_post',
                                     'backbone.visual.proj')))
    assert dropped == 394_752


@pytest.mark.parametrize('model', ['celebm', 'lapa'])
def test_torchscript_original_loads_strictly(model, tmp_path):
    original = synthetic_state_dict(model)
    path = tmp_path / 'original.pt'
    save_as_torchscript(original, path)
    read = load_farl_state_dict(str(path))
    assert list(read) == list(original)
    converted, kind = convert_farl(read, CelebAMaskHQDataset.CLASSES)
    assert kind == model
    ours = small_model(model)
    ours.load_state_dict(converted, strict=True)
    block = ours.backbone.layers[7]
    source = 'backbone.visual.transformer.resblocks.7.'
    assert torch.equal(block.attn.attn.in_proj_weight,
                       original[source + 'attn.in_proj_weight'])
    assert torch.equal(block.ffn.layers[1].bias,
                       original[source + 'mlp.c_proj.bias'])
    assert torch.equal(ours.backbone.pre_norm.weight,
                       original['backbone.visual.ln_pre.weight'])
    assert torch.equal(ours.neck.upsample_4x[1].running_var,
                       original['backbone.fpns.0.1.running_var'])
    assert torch.equal(ours.neck.upsample_2x[0].weight,
                       original['backbone.fpns.1.weight'])
    assert torch.equal(ours.decode_head.fpn_bottleneck.conv.weight,
                       original['head.head.fpn_bottleneck.conv.weight'])
    with torch.no_grad():
        logits = ours.encode_decode(
            torch.randn(1, 3, SMALL_SIZE, SMALL_SIZE),
            [dict(img_shape=(64, 64, 3), ori_shape=(64, 64, 3),
                  pad_shape=(64, 64, 3))])
    assert logits.shape == (1, ours.decode_head.num_classes, 64, 64)
    assert torch.isfinite(logits).all()


def test_celebm_classifier_rows_follow_the_official_order():
    """Row i of the original holds i: the official order's rows are
    FaRL's indices of its names, written out by hand."""
    original = synthetic_state_dict('celebm')
    rows = torch.arange(19, dtype=torch.float32)
    original['head.head.conv_seg.weight'] = rows.view(19, 1, 1, 1).expand(
        19, WIDTH, 1, 1).clone()
    original['head.head.conv_seg.bias'] = rows.clone()
    converted, _ = convert_farl(original, CelebAMaskHQDataset.CLASSES)
    # official: background, skin, nose, eye_g, l_eye, r_eye, l_brow, r_brow,
    # l_ear, r_ear, mouth, u_lip, l_lip, hair, hat, ear_r, neck_l, neck,
    # cloth
    farl_index = [0, 2, 10, 15, 8, 9, 6, 7, 4, 5, 11, 13, 12, 14, 16, 17, 18,
                  1, 3]
    assert converted['decode_head.conv_seg.bias'].tolist() == farl_index
    assert converted['decode_head.conv_seg.weight'][:, 0, 0, 0].tolist() == \
        farl_index
    assert FARL_CELEBM_CLASSES[farl_index[13]] == 'hair'


def test_lapa_keeps_its_label_ids():
    original = synthetic_state_dict('lapa')
    converted, kind = convert_farl(original)
    assert kind == 'lapa'
    assert torch.equal(converted['decode_head.conv_seg.weight'],
                       original['head.head.conv_seg.weight'])


@pytest.mark.parametrize('change, message', [
    (lambda sd: {'backbone.conv1.weight': torch.zeros(1)},
     'not a facer FaRL face parser'),
    (lambda sd: dict(sd, **{'backbone.visual.extra': torch.zeros(1)}),
     "unexpected key 'backbone.visual.extra'"),
    (lambda sd: dict(sd, **{'head.head.conv_seg.weight':
                            torch.zeros(7, WIDTH, 1, 1)}),
     'head.head.conv_seg has 7 classes'),
    (lambda sd: dict(sd, **{'backbone.image_std':
                            torch.ones(1, 3, 1, 1)}),
     "backbone.image_std is [1.0, 1.0, 1.0], not CLIP's"),
])
def test_other_files_are_refused(change, message):
    with pytest.raises(ValueError, match=message.replace('[', r'\[')):
        convert_farl(change(synthetic_state_dict('lapa')))


def test_the_tool_names_the_file_it_refuses(run_tool, tmp_path):
    src = tmp_path / 'face_parsing.farl.lapa.main_ema_136500_jit191.pt'
    save_as_torchscript({'backbone.conv1.weight': torch.zeros(2)}, src)
    result = run_tool(['python', CONVERTER, src, tmp_path / 'out.pth'])
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if 'error:' in line]
    assert len(errors) == 1 and str(src) in errors[0], result.stderr
    assert 'not a facer FaRL face parser' in errors[0]
    assert not (tmp_path / 'out.pth').exists()


def test_registry_entries():
    celebm = PUBLISHED_MODELS['farl-facer-celebamask']
    lapa = PUBLISHED_MODELS['farl-facer-lapa']
    assert celebm.url.endswith('/models-v1/'
                               'face_parsing.farl.celebm.main_ema_181500_jit.pt')
    assert lapa.url.endswith('/models-v1/'
                             'face_parsing.farl.lapa.main_ema_136500_jit191.pt')
    for entry, dataset in ((celebm, CelebAMaskHQDataset),
                           (lapa, LaPaDataset)):
        assert entry.licence == 'MIT'
        assert entry.num_classes == len(dataset.CLASSES)
        assert osp.isfile(entry.config_path)
        cfg = Config.fromfile(entry.config_path)
        assert cfg.face_alignment.startswith('facer_')
        assert cfg.data.test.pipeline[1].img_scale == (448, 448)
    assert 'non-commercial' in celebm.licence_notice()


def test_backbone_blocks_and_outputs():
    assert float(QuickGELU()(torch.tensor(1.0))) == pytest.approx(
        1 / (1 + np.exp(-1.702)))
    vit = FaRLViT(img_size=64, embed_dims=WIDTH, num_heads=2,
                  out_indices=(1, 3), num_layers=4).eval()
    vit.init_weights()
    assert vit.patch_embed.bias is None
    assert isinstance(vit.layers[0].ffn.activate, QuickGELU)
    with torch.no_grad():
        outs = vit(torch.randn(2, 3, 64, 64))
        # Another size: the position embedding is resized (6 x 6 patches).
        other = vit(torch.randn(1, 3, 96, 96))
    assert [tuple(out.shape) for out in outs] == [(2, WIDTH, 4, 4)] * 2
    assert tuple(other[0].shape) == (1, WIDTH, 6, 6)
    with pytest.raises(ValueError, match='out_indices'):
        FaRLViT(num_layers=4, out_indices=(4, ))


def test_dist_train_lowers_the_loss(run_tool, sample_root, tmp_path):
    """A 32-wide FaRL model at 64² through ./tools/dist_train.sh (2
    processes), 16 iterations from scratch on one batch, at 5x the recipe's
    lr (its 1e-3 lowers this small model's loss by 8% in 16 iterations)."""
    records = dist_train_on_one_batch(
        run_tool, CONFIGS['celebm'], sample_root('celebamask_hq'),
        str(tmp_path / 'work'), 16, [
            f'model.backbone.img_size={SMALL_SIZE}',
            f'model.backbone.embed_dims={WIDTH}', 'model.backbone.num_heads=2',
            f'model.neck.embed_dim={WIDTH}',
            'model.decode_head.in_channels=' + ','.join([str(WIDTH)] * 4),
            f'model.decode_head.channels={WIDTH}', 'optimizer.lr=5e-3'
        ], size=SMALL_SIZE)
    losses = [record['loss'] for record in records]
    assert np.mean(losses[-4:]) < 0.8 * np.mean(losses[:4]), losses
