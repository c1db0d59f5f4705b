"""The all-MLP SegFormer decode head as the Hugging Face model has it."""
import torch
from mmcv.cnn import ConvModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.ops import resize
from torch import nn


@HEADS.register_module()
class SegformerMLPHead(BaseDecodeHead):
    """SegFormer's all-MLP head in the layout of transformers'
    ``SegformerDecodeHead``.

    Each level is projected to ``channels`` by a plain linear layer (no
    norm, no activation), upsampled bilinearly to the first level's size,
    and the levels are concatenated deepest first (c4, c3, c2, c1); a 1x1
    convolution without bias, BN and ReLU fuse them before the classifier.
    mmseg's ``SegformerHead`` differs: a conv + BN + ReLU per level and the
    levels concatenated in their natural order, so weights trained with
    the Hugging Face head do not fit it.

    Args:
        interpolate_mode (str): Upsampling of the levels. Default:
            'bilinear' (with ``align_corners``, False in the original).
        **kwargs: Arguments of :class:`BaseDecodeHead`; ``in_channels`` and
            ``in_index`` list the levels.
    """

    def __init__(self, interpolate_mode='bilinear', **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        self.interpolate_mode = interpolate_mode
        self.linear_projections = nn.ModuleList(
            nn.Linear(channels, self.channels)
            for channels in self.in_channels)
        self.fuse = ConvModule(
            self.channels * len(self.in_channels),
            self.channels,
            1,
            bias=False,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)

    def forward(self, inputs):
        inputs = self._transform_inputs(inputs)
        size = inputs[0].shape[2:]
        levels = []
        for x, projection in zip(inputs, self.linear_projections):
            batch, _, height, width = x.shape
            x = projection(x.flatten(2).transpose(1, 2))
            x = x.transpose(1, 2).reshape(batch, -1, height, width)
            if x.shape[2:] != size:
                x = resize(x, size=size, mode=self.interpolate_mode,
                           align_corners=self.align_corners)
            levels.append(x)
        return self.cls_seg(self.fuse(torch.cat(levels[::-1], dim=1)))
