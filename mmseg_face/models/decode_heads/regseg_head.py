"""RegSeg decoder: project the 1/4, 1/8 and 1/16 maps, fuse top-down."""
import torch
from mmcv.cnn import ConvModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.ops import resize


@HEADS.register_module()
class RegSegHead(BaseDecodeHead):
    """RegSeg's decoder ("decoder26" of the official code).

    The three inputs are projected by 1x1 ConvModules; the 1/16 map is
    upsampled and added to the 1/8 map, which a 3x3 ConvModule reduces to
    ``fuse_channels``; that is upsampled, concatenated with the 1/4 map, and
    a 3x3 ConvModule to ``channels`` precedes ``conv_seg``. RegSeg has no
    dropout, so set ``dropout_ratio=0``.

    Args:
        project_channels (Sequence[int]): Widths of the 1x1 projections of
            the 1/4, 1/8 and 1/16 inputs; the last two must be equal.
            Default: (8, 128, 128).
        fuse_channels (int): Width of the 3x3 conv after the 1/8 sum.
            Default: 64.
    """

    def __init__(self, project_channels=(8, 128, 128), fuse_channels=64,
                 **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        if len(self.in_channels) != 3 or len(project_channels) != 3:
            raise ValueError('RegSegHead takes three inputs (1/4, 1/8, 1/16) '
                             'and three project_channels')
        if project_channels[1] != project_channels[2]:
            raise ValueError('the 1/8 and 1/16 projections are added, so '
                             'project_channels[1] must equal [2], got '
                             f'{tuple(project_channels)}')
        self.projects = torch.nn.ModuleList(
            ConvModule(in_channels, out_channels, 1, conv_cfg=self.conv_cfg,
                       norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
            for in_channels, out_channels in zip(self.in_channels,
                                                 project_channels))
        self.fuse8 = ConvModule(project_channels[1], fuse_channels, 3,
                                padding=1, conv_cfg=self.conv_cfg,
                                norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.fuse4 = ConvModule(fuse_channels + project_channels[0],
                                self.channels, 3, padding=1,
                                conv_cfg=self.conv_cfg,
                                norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)

    def forward(self, inputs):
        x4, x8, x16 = (project(x) for project, x in zip(
            self.projects, self._transform_inputs(inputs)))
        x8 = x8 + resize(x16, size=x8.shape[2:], mode='bilinear',
                         align_corners=self.align_corners)
        x8 = resize(self.fuse8(x8), size=x4.shape[2:], mode='bilinear',
                    align_corners=self.align_corners)
        return self.cls_seg(self.fuse4(torch.cat([x8, x4], dim=1)))
