"""The published face BiSeNet (face-parsing.PyTorch, facexlib, yakhyo) and
its converter: exact sizes, shapes, strict loading of converted originals,
the class reordering, bad input, and fine-tuning from a converted file."""
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
from mmseg_face.utils.checkpoint_converters import (ZLL_CLASSES,
                                                    class_permutation,
                                                    file_sha256)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {
    18: osp.join(REPO_ROOT, 'local_configs', 'face_bisenet',
                 'face_bisenet_r18_8x2_448x448_80k_celebamask-hq.py'),
    34: osp.join(REPO_ROOT, 'local_configs', 'face_bisenet',
                 'face_bisenet_r34_8x2_448x448_80k_celebamask-hq.py'),
}
# (fixture, ResNet depth): zll's 79999_iter.pth (= facexlib's
# parsing_bisenet.pth), yakhyo's resnet18.pt and resnet34.pt.
ORIGINALS = [('face_bisenet_zll', 18), ('face_bisenet_yakhyo_r18', 18),
             ('face_bisenet_yakhyo_r34', 34)]
CONVERTER = 'tools/model_converters/face_bisenet.py'


def build_model(depth):
    cfg = Config.fromfile(CONFIGS[depth])
    cfg.model.backbone.backbone_cfg.init_cfg = None
    cfg.model.backbone.norm_cfg = dict(type='BN')
    cfg.model.decode_head.norm_cfg = dict(type='BN')
    for head in cfg.model.auxiliary_head:
        head.norm_cfg = dict(type='BN')
    return build_segmentor(cfg.model)


@pytest.mark.parametrize('depth, original_params', [(18, 13_300_416),
                                                    (34, 23_408_576)])
def test_parameter_count_is_the_originals_plus_zero_biases(
        depth, original_params):
    # Originals measured by building their code (public_checkpoints.md
    # §2.5; yakhyo's R34 without its unused 1000-class fc). Counted: the
    # whole network with both auxiliary heads, as the files hold it. Ours
    # adds one bias per class to each of the three classifiers, which the
    # converter sets to zero.
    model = build_model(depth)
    assert sum(p.numel() for p in model.parameters()) == \
        original_params + 3 * 19


def test_forward_shapes_at_512():
    model = build_model(18).eval()
    inputs = torch.randn(1, 3, 512, 512)
    with torch.no_grad():
        fused, context8, context16 = model.backbone(inputs)
        logits = model.decode_head(model.extract_feat(inputs))
        result = model.simple_test(
            inputs, [dict(ori_shape=(600, 500, 3), img_shape=(512, 512, 3),
                          pad_shape=(512, 512, 3), flip=False)],
            rescale=True)
    assert fused.shape == (1, 256, 64, 64)
    assert context8.shape == (1, 128, 64, 64)
    assert context16.shape == (1, 128, 32, 32)
    assert logits.shape == (1, 19, 64, 64)  # output stride 8
    assert result[0].shape == (600, 500)


@pytest.mark.parametrize('fixture, depth', ORIGINALS)
def test_converted_original_loads_strictly_with_classes_reordered(
        fixture, depth, run_tool, tmp_path):
    original = synthetic_original(fixture)
    src, dst = tmp_path / 'original.pth', tmp_path / 'out' / 'converted.pth'
    torch.save(original, src)
    result = run_tool(['python', CONVERTER, src, dst])
    assert result.returncode == 0, result.stderr[-3000:]
    assert f'ResNet-{depth}' in result.stdout

    model = build_model(depth)
    checkpoint = load_checkpoint(model, str(dst), strict=True)
    meta = checkpoint['meta']
    assert meta['CLASSES'] == CelebAMaskHQDataset.CLASSES
    assert meta['source']['sha256'] == file_sha256(src)
    assert meta['source']['original_classes'] == ZLL_CLASSES
    assert meta['config'] == osp.relpath(CONFIGS[depth], REPO_ROOT)

    prefix = 'cp.' if fixture.endswith('zll') else 'fpn.'
    theirs = original[f'{prefix}arm16.' + (
        'conv_atten.weight' if prefix == 'cp.' else 'attention.0.weight')]
    ours = model.backbone.context_path.arm16.atten_conv_layer[1].conv.weight
    assert torch.equal(ours, theirs)
    classifier = 'conv_out.conv_out.weight' if prefix == 'cp.' else \
        'conv_out.conv.weight'
    seg = model.decode_head.conv_seg
    # Official CelebAMask-HQ order <- zll order, by hand: nose is zll's 10,
    # eye_g 6, l_brow 2, hair 17, hat 18, neck 14, cloth 16.
    for official, zll in [(2, 10), (3, 6), (6, 2), (13, 17), (14, 18),
                          (17, 14), (18, 16), (0, 0), (1, 1)]:
        assert torch.equal(seg.weight[official], original[classifier][zll])
    assert torch.count_nonzero(seg.bias) == 0
    aux = 'conv_out32.conv_out.weight' if prefix == 'cp.' else \
        'conv_out32.conv.weight'
    assert torch.equal(model.auxiliary_head[1].conv_seg.weight[2],
                       original[aux][10])


def test_class_permutation_by_name():
    perm = class_permutation(['bg', 'a', 'b', 'c'], ['bg', 'c', 'a', 'b'])
    assert perm == [0, 3, 1, 2]
    with pytest.raises(ValueError, match='class lists differ'):
        class_permutation(['bg', 'a'], ['bg', 'z'])


def test_a_checkpoint_of_another_network_is_refused(run_tool, tmp_path):
    src = tmp_path / 'other.pth'
    torch.save({'backbone.conv1.weight': torch.zeros(1)}, src)
    result = run_tool(['python', CONVERTER, src, tmp_path / 'out.pth'])
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if 'error:' in line]
    assert len(errors) == 1 and str(src) in errors[0], result.stderr
    assert 'not a face BiSeNet checkpoint' in errors[0]
    assert not (tmp_path / 'out.pth').exists()


def test_fine_tuning_a_converted_checkpoint_lowers_the_loss(
        run_tool, sample_root, tmp_path):
    src, converted = tmp_path / 'zll.pth', tmp_path / 'converted.pth'
    torch.save(synthetic_original('face_bisenet_zll'), src)
    assert run_tool(['python', CONVERTER, src, converted]).returncode == 0

    losses = fine_tune_losses(
        run_tool, CONFIGS[18], converted, sample_root('celebamask_hq'),
        tmp_path / 'work', iters=30, options=[
            'model.backbone.backbone_cfg.init_cfg=None',
            # The recipe's 1k-iteration warm-up would keep the rate near
            # 1e-5.
            'lr_config.warmup=None'
        ])
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5]), losses
