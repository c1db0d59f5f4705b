"""MSCAN backbone: published sizes, strides, checkpoint keys, registries."""
import pytest
import torch
from mmcls.models.builder import BACKBONES as MMCLS_BACKBONES
from mmcv.utils import build_from_cfg
from mmseg.models.builder import BACKBONES, build_backbone

from mmseg_face.models.backbones import MSCAN
from mmseg_face.utils.complexity import count_parameters

BN = dict(type='BN', requires_grad=True)


# Backbone parts of the 19-class SegNeXt face models (models.md §5.1).
@pytest.mark.parametrize('arch,params', [('t', 3_903_584),
                                         ('s', 13_450_176),
                                         ('b', 26_277_824),
                                         ('l', 44_636_864)])
def test_published_backbone_sizes(arch, params):
    assert count_parameters(MSCAN(arch=arch, norm_cfg=BN)) == params


def test_output_strides_and_channels():
    model = MSCAN(arch='t', norm_cfg=BN).eval()
    outs = model(torch.randn(2, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [(2, 32, 16, 24),
                                              (2, 64, 8, 12),
                                              (2, 160, 4, 6),
                                              (2, 256, 2, 3)]
    # Each stage ends with a LayerNorm over channels (unit init).
    last = outs[-1].permute(0, 2, 3, 1)
    assert torch.allclose(last.mean(-1), torch.zeros(2, 2, 3), atol=1e-5)


def test_out_indices_and_in_channels():
    model = MSCAN(arch='t', in_channels=1, out_indices=(1, 3),
                  norm_cfg=BN).eval()
    outs = model(torch.randn(1, 1, 32, 32))
    assert [o.shape[1] for o in outs] == [64, 256]
    assert model.patch_embed1.proj[0].in_channels == 1
    with pytest.raises(ValueError, match='out_indices'):
        MSCAN(arch='t', out_indices=(4, ), norm_cfg=BN)


def test_arch_as_dict_and_bad_arch():
    arch = dict(embed_dims=(8, 16), depths=(1, 2), mlp_ratios=(2, 2),
                drop_path_rate=0.0)
    model = MSCAN(arch=arch, out_indices=(0, 1), norm_cfg=BN).eval()
    assert [o.shape[1] for o in model(torch.randn(1, 3, 16, 16))] == [8, 16]
    assert len(model.block2) == 2
    with pytest.raises(KeyError, match="'x'"):
        MSCAN(arch='x')
    with pytest.raises(KeyError, match='missing'):
        MSCAN(arch=dict(embed_dims=(8, ), depths=(1, )))
    with pytest.raises(ValueError, match='one embed_dims'):
        MSCAN(arch=dict(arch, depths=(1, )))


def test_drop_path_rises_linearly_to_the_arch_rate():
    model = MSCAN(arch='l', norm_cfg=BN)
    rates = [
        block.drop_path.drop_prob for stage in range(1, 5)
        for block in getattr(model, f'block{stage}')
        if hasattr(block.drop_path, 'drop_prob')
    ]
    # 38 blocks, the first has rate 0 (an Identity), the last 0.3.
    assert len(rates) == 37
    assert rates[0] == pytest.approx(0.3 / 37)
    assert rates[-1] == pytest.approx(0.3)
    override = MSCAN(arch='t', drop_path_rate=0.0, norm_cfg=BN)
    assert not any(
        hasattr(m, 'drop_prob') for m in override.modules())


def test_original_checkpoint_keys():
    keys = set(MSCAN(arch='t').state_dict())
    for key in ('patch_embed1.proj.0.weight',
                'patch_embed1.proj.4.running_var',
                'patch_embed2.proj.weight', 'patch_embed2.norm.weight',
                'block1.0.norm1.weight', 'block1.0.layer_scale_1',
                'block1.0.attn.proj_1.weight',
                'block1.0.attn.spatial_gating_unit.conv0.weight',
                'block1.0.attn.spatial_gating_unit.conv2_2.weight',
                'block1.0.attn.spatial_gating_unit.conv3.bias',
                'block1.0.mlp.dwconv.dwconv.weight', 'block4.1.mlp.fc2.bias',
                'norm4.weight'):
        assert key in keys, key
    kernel = MSCAN(arch='t').block1[0].attn.spatial_gating_unit.conv2_1
    assert kernel.kernel_size == (1, 21) and kernel.groups == 32


def test_pretrained_init_cfg_loads_weights(tmp_path):
    source = MSCAN(arch='t', norm_cfg=BN)
    source.init_weights()
    with torch.no_grad():
        source.norm4.bias.fill_(0.5)
    checkpoint = tmp_path / 'mscan_t.pth'
    torch.save(source.state_dict(), checkpoint)
    init_cfg = dict(type='Pretrained', checkpoint=str(checkpoint))
    target = MSCAN(arch='t', norm_cfg=BN, init_cfg=init_cfg)
    target.init_weights()
    for name, value in source.state_dict().items():
        assert torch.equal(value, target.state_dict()[name]), name


def test_default_init():
    model = MSCAN(arch='t', norm_cfg=BN)
    model.init_weights()
    assert torch.equal(model.norm1.weight, torch.ones(32))
    conv = model.block3[0].mlp.fc1
    assert torch.equal(conv.bias, torch.zeros_like(conv.bias))
    # He-normal over the fan-out: std = sqrt(2 / (1 * 1 * 640)).
    assert conv.weight.std().item() == pytest.approx((2 / 640)**0.5, rel=0.05)


def test_registered_in_mmseg_and_mmcls():
    assert BACKBONES.get('MSCAN') is MSCAN
    assert MMCLS_BACKBONES.get('MSCAN') is MSCAN
    model = build_backbone(dict(type='MSCAN', arch='s', norm_cfg=BN))
    assert model.embed_dims == (64, 128, 320, 512)
    cls_model = build_from_cfg(dict(type='MSCAN', norm_cfg=BN),
                               MMCLS_BACKBONES)
    assert isinstance(cls_model, MSCAN)


def test_trains_on_cpu():
    torch.manual_seed(0)
    model = MSCAN(arch=dict(embed_dims=(8, 16, 24, 32), depths=(1, 1, 1, 1),
                            mlp_ratios=(2, 2, 2, 2), drop_path_rate=0.0),
                  norm_cfg=BN)
    model.init_weights()
    head = torch.nn.Conv2d(32, 2, 1)
    optimizer = torch.optim.Adam(
        list(model.parameters()) + list(head.parameters()), lr=1e-2)
    img = torch.randn(4, 3, 32, 32)
    target = (img[:, 0, ::32, ::32] > 0).long()
    losses = []
    for _ in range(15):
        loss = torch.nn.functional.cross_entropy(head(model(img)[-1]), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
