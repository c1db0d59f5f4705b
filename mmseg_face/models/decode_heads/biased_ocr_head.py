"""OCRHead with a biased 3x3 bottleneck conv, as the official HRNet-OCR."""
from mmcv.cnn import ConvModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads import OCRHead


@HEADS.register_module()
class BiasedOCRHead(OCRHead):
    """mmseg's ``OCRHead`` whose first conv keeps its bias in front of BN.

    The official OCR block (HRNet-OCR, and the NVIDIA fork that the
    Polarized Self-Attention code builds on: ``conv3x3_ocr``) gives this
    conv a bias, while mmcv's ``ConvModule`` drops it before a norm layer.
    The bias is kept so that parameter counts and weights match the
    official network; everything else is mmseg's OCRHead.

    Args:
        **kwargs: The arguments of ``OCRHead``.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Replaces OCRHead's bias-free bottleneck with the same conv + bias.
        self.bottleneck = ConvModule(
            self.in_channels,
            self.channels,
            3,
            padding=1,
            bias=True,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
