"""The soft-region head of the official HRNet-OCR."""
from mmcv.cnn import ConvModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead


@HEADS.register_module()
class OCRAuxHead(BaseDecodeHead):
    """1x1 conv (with bias) - norm - activation - classifier.

    The first stage of the official OCR block (``aux_head`` of HRNet-OCR and
    of the NVIDIA fork that the Polarized Self-Attention code builds on): its
    logits are the soft object regions that OCR gathers, and are supervised
    as an auxiliary output. mmseg's ``FCNHead`` with ``kernel_size=1`` is the
    same up to the bias of this conv, which ``ConvModule`` drops in front of
    a norm layer.

    Args:
        **kwargs: The arguments of ``BaseDecodeHead``.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = ConvModule(
            self.in_channels,
            self.channels,
            1,
            bias=True,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)

    def forward(self, inputs):
        return self.cls_seg(self.conv(self._transform_inputs(inputs)))
