"""FaRL's CLIP-style ViT, as facer's face parsers run it."""
import torch
import torch.nn as nn
from mmcv.cnn import ACTIVATION_LAYERS, build_norm_layer
from mmcv.runner import BaseModule, ModuleList
from mmseg.models.backbones.vit import (TransformerEncoderLayer,
                                        VisionTransformer)
from mmseg.models.builder import BACKBONES


@ACTIVATION_LAYERS.register_module()
class QuickGELU(nn.Module):
    """CLIP's sigmoid approximation of GELU, ``x * sigmoid(1.702 x)``.

    FaRL's MLPs were trained with it; exact GELU would change every block.
    """

    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


@BACKBONES.register_module()
class FaRLViT(BaseModule):
    """The visual encoder of FaRL (CLIP ViT), returning token maps of chosen
    blocks for a segmentation neck.

    It differs from mmseg's ``VisionTransformer`` where FaRL's weights need
    it: the patch projection has no bias, the embedded tokens (class token
    first, plus the position embedding) pass a LayerNorm (``pre_norm``,
    CLIP's ``ln_pre``) before the first block, and the MLPs use
    :class:`QuickGELU`. The blocks are mmseg's pre-norm
    ``TransformerEncoderLayer``. The outputs are the patch tokens of the
    blocks ``out_indices`` as ``(N, C, H/16, W/16)`` maps, with no final
    norm, as facer's ``FaRLVisualFeatures`` hands them to its FPN (mmseg's
    ``Feature2Pyramid`` with rescales 4, 2, 1, 0.5). CLIP's ``ln_post`` and
    ``proj``, which pool the class token for the text match, are not part of
    it. An input of another size than ``img_size`` gets the position
    embedding resized bicubically (facer resizes the image instead; the
    test pipeline of the FaRL configs feeds ``img_size`` exactly).

    Args:
        img_size (int): Input side the position embedding is for.
            Default: 448 (facer's; 28 x 28 patches).
        patch_size (int): Default: 16.
        in_channels (int): Default: 3.
        embed_dims (int): Token width. Default: 768.
        num_layers (int): Blocks. Default: 12.
        num_heads (int): Attention heads. Default: 12.
        mlp_ratio (int): MLP width over ``embed_dims``. Default: 4.
        out_indices (Sequence[int]): Blocks whose tokens are returned.
            Default: (3, 5, 7, 11), facer's for FaRL-Base.
        drop_path_rate (float): Stochastic depth at the last block (linear
            from 0). Default: 0.
        norm_cfg (dict): Norm of the blocks and ``pre_norm``; LayerNorm with
            CLIP's eps 1e-5. Default: ``dict(type='LN', eps=1e-5)``.
        with_cp (bool): Checkpoint the blocks to save memory. Default: False.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 img_size=448,
                 patch_size=16,
                 in_channels=3,
                 embed_dims=768,
                 num_layers=12,
                 num_heads=12,
                 mlp_ratio=4,
                 out_indices=(3, 5, 7, 11),
                 drop_path_rate=0.,
                 norm_cfg=dict(type='LN', eps=1e-5),
                 with_cp=False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if img_size % patch_size:
            raise ValueError(f'img_size {img_size} is not a multiple of '
                             f'patch_size {patch_size}')
        if not all(0 <= index < num_layers for index in out_indices):
            raise ValueError(f'out_indices {tuple(out_indices)} must lie in '
                             f'[0, {num_layers})')
        self.patch_size = patch_size
        self.grid_size = img_size // patch_size
        self.out_indices = tuple(out_indices)
        self.patch_embed = nn.Conv2d(
            in_channels, embed_dims, patch_size, stride=patch_size,
            bias=False)
        self.cls_token = nn.Parameter(torch.zeros(embed_dims))
        self.pos_embed = nn.Parameter(
            torch.zeros(self.grid_size**2 + 1, embed_dims))
        self.pre_norm = build_norm_layer(norm_cfg, embed_dims)[1]
        rates = torch.linspace(0, drop_path_rate, num_layers).tolist()
        self.layers = ModuleList([
            TransformerEncoderLayer(
                embed_dims=embed_dims,
                num_heads=num_heads,
                feedforward_channels=mlp_ratio * embed_dims,
                drop_path_rate=rate,
                act_cfg=dict(type='QuickGELU'),
                norm_cfg=norm_cfg,
                batch_first=True,
                with_cp=with_cp) for rate in rates
        ])

    def init_weights(self):
        """CLIP's initialisation (truncated normal 0.02 for linear layers,
        ``width ** -0.5`` for the embeddings), unless ``init_cfg`` loads
        weights."""
        if self.init_cfg is not None:
            return super().init_weights()
        scale = self.cls_token.shape[0]**-0.5
        nn.init.normal_(self.cls_token, std=scale)
        nn.init.normal_(self.pos_embed, std=scale)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, x):
        x = self.patch_embed(x)
        batch, _, height, width = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(batch, 1, -1)
        pos_embed = self.pos_embed[None]
        if (height, width) != (self.grid_size, self.grid_size):
            pos_embed = VisionTransformer.resize_pos_embed(
                pos_embed, (height, width), (self.grid_size, self.grid_size),
                'bicubic')
        x = self.pre_norm(torch.cat([cls, tokens], dim=1) + pos_embed)
        outs = []
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in self.out_indices:
                outs.append(x[:, 1:].transpose(1, 2).reshape(
                    batch, -1, height, width).contiguous())
            if index == max(self.out_indices):
                break
        return tuple(outs)
