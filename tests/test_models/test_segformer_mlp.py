"""SegFormer in the Hugging Face layout: the exact size of the B5 face
parser, the fused-attention MiT against mmseg's, and the all-MLP head."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmcv import Config
from mmseg.models import build_backbone, build_head, build_segmentor

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'segformer',
                  'segformer_mlp_mit-b5_8x2_512x512_160k_celebamask-hq.py')
TINY_MIT = dict(type='SDPAMixVisionTransformer', embed_dims=8,
                num_layers=[1, 2, 1, 1], num_heads=[1, 2, 5, 8],
                norm_cfg=dict(type='LN', eps=1e-5))


def tiny_head(**kwargs):
    return build_head(dict(dict(
        type='SegformerMLPHead', in_channels=[8, 16, 40, 64],
        in_index=[0, 1, 2, 3], channels=12, num_classes=19,
        norm_cfg=dict(type='BN'), align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        **kwargs))


def test_b5_face_parser_has_the_hugging_face_models_parameters():
    """84,607,955: transformers' SegformerForSemanticSegmentation of the hub
    config (MiT-B5, 768-channel head, 19 labels) counted the same way. All
    of ours is counted: backbone and decode head, no auxiliary head; BN
    statistics are buffers, not parameters."""
    cfg = Config.fromfile(CONFIG)
    cfg.model.decode_head.norm_cfg = dict(type='BN')
    model = build_segmentor(cfg.model)
    assert sum(p.numel() for p in model.backbone.parameters()) == 81_443_008
    assert sum(p.numel() for p in model.decode_head.parameters()) == 3_164_947
    assert sum(p.numel() for p in model.parameters()) == 84_607_955
    assert not model.with_auxiliary_head


def test_fused_attention_equals_mmseg_attention():
    """The same weights give mmseg's MixVisionTransformer outputs."""
    from mmseg.models.backbones import MixVisionTransformer
    torch.manual_seed(0)
    ours = build_backbone(TINY_MIT).eval()
    stock_cfg = dict(TINY_MIT)
    stock_cfg.pop('type')
    stock = MixVisionTransformer(**stock_cfg).eval()
    stock.load_state_dict(ours.state_dict(), strict=True)
    img = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        expected, got = stock(img), ours(img)
    assert [tuple(x.shape) for x in got] == [
        (2, 8, 16, 24), (2, 16, 8, 12), (2, 40, 4, 6), (2, 64, 2, 3)]
    for out, ref in zip(got, expected):
        torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)


def test_fused_attention_trains_like_mmseg_attention():
    """Gradients reach every parameter, as through mmseg's attention."""
    from mmseg.models.backbones import MixVisionTransformer
    torch.manual_seed(0)
    ours = build_backbone(TINY_MIT).train()
    stock_cfg = dict(TINY_MIT)
    stock_cfg.pop('type')
    stock = MixVisionTransformer(**stock_cfg).train()
    stock.load_state_dict(ours.state_dict())
    img = torch.randn(1, 3, 32, 32)
    for model in (ours, stock):
        sum(out.square().mean() for out in model(img)).backward()
    for (name, param), ref in zip(ours.named_parameters(), stock.parameters()):
        assert param.grad is not None, name
        torch.testing.assert_close(param.grad, ref.grad, rtol=1e-4,
                                   atol=1e-6, msg=name)


def test_head_predicts_at_the_first_levels_size():
    head = tiny_head().eval()
    feats = [torch.randn(2, c, 16 // s, 24 // s)
             for c, s in zip([8, 16, 40, 64], [1, 2, 4, 8])]
    with torch.no_grad():
        assert head(feats).shape == (2, 19, 16, 24)


def test_head_concatenates_the_deepest_level_first():
    """With only the last level's projection non-zero, the output depends on
    the fuse weights of the first 12 input channels only."""
    head = tiny_head(dropout_ratio=0).eval()
    feats = [torch.randn(1, c, 8 // s, 8 // s)
             for c, s in zip([8, 16, 40, 64], [1, 2, 4, 8])]
    with torch.no_grad():
        for projection in head.linear_projections[:3]:
            projection.weight.zero_()
            projection.bias.zero_()
        before = head(feats)
        head.fuse.conv.weight[:, 12:].normal_()
        assert torch.equal(head(feats), before)
        head.fuse.conv.weight[:, :12].normal_()
        assert not torch.allclose(head(feats), before)


def test_head_upsamples_like_the_hugging_face_head():
    """Each level: linear projection, bilinear upsampling with
    align_corners=False, then concatenation deepest first, written out."""
    torch.manual_seed(0)
    head = tiny_head(dropout_ratio=0).eval()
    feats = [torch.randn(1, c, 12 // s, 8 // s)
             for c, s in zip([8, 16, 40, 64], [1, 2, 4, 8])]
    levels = []
    for x, projection in zip(feats, head.linear_projections):
        y = torch.einsum('nchw,oc->nohw', x, projection.weight) + \
            projection.bias[:, None, None]
        levels.append(F.interpolate(y, size=(12, 8), mode='bilinear',
                                    align_corners=False))
    fused = head.fuse(torch.cat(levels[::-1], 1))
    with torch.no_grad():
        torch.testing.assert_close(head(feats), head.conv_seg(fused))


def test_head_loss_by_hand_with_ignored_pixels():
    """Logits at 2x2 are upsampled (bilinear, align_corners=False) to the
    4x4 labels; pixels labelled 255 are left out of the mean (mmseg's
    default averages over all pixels, ignored ones counting as 0)."""
    head = tiny_head()
    logits = torch.zeros(1, 19, 2, 2)
    logits[0, 1] = 2.0  # class 1 everywhere, by a margin of 2
    label = torch.ones(1, 1, 4, 4, dtype=torch.long)
    label[0, 0, 0, :2] = 3
    label[0, 0, 3, 3] = 255
    loss = head.losses(logits, label)['loss_ce']
    right = -torch.log_softmax(torch.tensor([2.0] + [0.0] * 18), 0)[0]
    wrong = -torch.log_softmax(torch.tensor([0.0] + [2.0] + [0.0] * 17),
                               0)[0]
    expected = (13 * right + 2 * wrong) / 16
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_fused_attention_is_swapped_in_without_new_state():
    """Every block's attention, keys as mmseg's MiT (its checkpoints load)."""
    from mmseg.models.backbones import MixVisionTransformer
    ours = build_backbone(TINY_MIT)
    attentions = [block.attn for _, blocks, _ in ours.layers
                  for block in blocks]
    assert len(attentions) == 5
    assert all(type(attn).__name__ == 'SDPAEfficientMultiheadAttention'
               for attn in attentions)
    stock_cfg = dict(TINY_MIT)
    stock_cfg.pop('type')
    stock = MixVisionTransformer(**stock_cfg)
    assert {k: v.shape for k, v in stock.state_dict().items()} == \
        {k: v.shape for k, v in ours.state_dict().items()}
