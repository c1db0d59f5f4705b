from mmcv.cnn import ConvModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead


@HEADS.register_module()
class AuxConvHead(BaseDecodeHead):
    """Auxiliary head of lxtGH/SFSegNets' models (its ``Aux_Module``).

    One 3x3 ConvModule, whose conv keeps its bias before the norm, then the
    classifier (dropout included). mmseg's ``FCNHead(num_convs=1,
    concat_input=False)`` is the same but drops that bias, which the
    original's checkpoints and parameter counts have.

    Args:
        kernel_size (int): Kernel size of the conv. Default: 3.
    """

    def __init__(self, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.conv = ConvModule(
            self.in_channels, self.channels, kernel_size,
            padding=kernel_size // 2, bias=True, conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)

    def forward(self, inputs):
        return self.cls_seg(self.conv(self._transform_inputs(inputs)))
