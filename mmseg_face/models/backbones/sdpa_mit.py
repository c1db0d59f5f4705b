"""mmseg's Mix Transformer (SegFormer's MiT) with fused attention."""
import torch
import torch.nn.functional as F
from mmseg.models.backbones.mit import (EfficientMultiheadAttention,
                                        MixVisionTransformer)
from mmseg.models.builder import BACKBONES
from mmseg.models.utils import nchw_to_nlc, nlc_to_nchw


class SDPAEfficientMultiheadAttention(EfficientMultiheadAttention):
    """SegFormer's spatially reduced attention through
    ``F.scaled_dot_product_attention``.

    The parameters are mmseg's (``attn.in_proj_*``, ``attn.out_proj``,
    ``sr``, ``norm``); only the forward differs. mmseg calls
    ``nn.MultiheadAttention`` with ``need_weights=True``, which computes the
    attention map explicitly and also averages it over the heads, work that
    is thrown away; torch's fused kernel computes the same output without
    that map, as the Hugging Face SegFormer does. An ONNX export (opset 11
    has no fused attention) gets the explicit product, softmax and product.
    """

    def forward(self, x, hw_shape, identity=None):
        kv = x
        if self.sr_ratio > 1:
            kv = self.norm(nchw_to_nlc(self.sr(nlc_to_nchw(x, hw_shape))))
        if identity is None:
            identity = x
        attn = self.attn
        batch, queries, channels = x.shape
        weights = attn.in_proj_weight.chunk(3)
        biases = attn.in_proj_bias.chunk(3) if attn.in_proj_bias is not None \
            else (None, ) * 3

        def heads(tokens, weight, bias):
            return F.linear(tokens, weight, bias).view(
                batch, tokens.shape[1], attn.num_heads, -1).transpose(1, 2)

        q, k, v = (heads(tokens, weight, bias) for tokens, weight, bias in
                   zip((x, kv, kv), weights, biases))
        dropout = attn.dropout if self.training else 0.
        if torch.onnx.is_in_onnx_export():
            scores = q @ k.transpose(-2, -1) * q.shape[-1]**-0.5
            out = F.dropout(scores.softmax(-1), dropout, self.training) @ v
        else:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
        out = attn.out_proj(out.transpose(1, 2).reshape(batch, queries,
                                                        channels))
        return identity + self.dropout_layer(self.proj_drop(out))


@BACKBONES.register_module()
class SDPAMixVisionTransformer(MixVisionTransformer):
    """:class:`~mmseg.models.backbones.MixVisionTransformer` whose attention
    runs torch's fused kernel (:class:`SDPAEfficientMultiheadAttention`).

    Same arguments, parameters and state-dict keys as mmseg's MiT (its
    ImageNet and mmseg checkpoints load unchanged) and the same outputs up
    to float rounding; faster, because no attention map is materialised.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for _, blocks, _ in self.layers:
            for block in blocks:
                # Only the forward changes: no state is added or renamed.
                block.attn.__class__ = SDPAEfficientMultiheadAttention
