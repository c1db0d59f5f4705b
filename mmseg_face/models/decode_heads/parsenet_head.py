"""Output layers of GPEN's face parser (ParseNet)."""
from mmcv.cnn import ConvModule
from mmseg.models.builder import HEADS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead


@HEADS.register_module()
class ParseNetHead(BaseDecodeHead):
    """Full-resolution parsing layer of GPEN's ParseNet plus its image layer.

    Sits on the ``ParseNet`` backbone. The classifier is a biased 3x3
    convolution with reflection padding (GPEN's ``out_mask_conv``), so the
    logits keep the backbone's full resolution.

    GPEN's network also predicts a restored image (``out_img_conv``), trained
    in PSFR-GAN with an L1 loss against the high-quality version of a
    synthetically degraded input. Face-parsing datasets have no such pairs,
    so ``conv_img`` is kept only for the architecture (and its parameter
    count, 21,303,254 in all) and for :meth:`forward_restore`: it gets no
    loss and takes no part in :meth:`forward`. Distributed training
    therefore needs ``find_unused_parameters=True``.

    Args:
        img_channels (int): Channels of the restored image. Default: 3.
        **kwargs: Passed to ``BaseDecodeHead``; ``channels`` must equal
            ``in_channels`` because the classifier reads the backbone map
            directly.
    """

    def __init__(self, img_channels=3, **kwargs):
        super().__init__(**kwargs)
        if self.in_channels != self.channels:
            raise ValueError(
                'ParseNetHead has no convolution before its classifier, so '
                f'channels ({self.channels}) must equal in_channels '
                f'({self.in_channels})')
        conv_kwargs = dict(
            kernel_size=3,
            padding=1,
            padding_mode='reflect',
            conv_cfg=self.conv_cfg,
            norm_cfg=None,
            act_cfg=None)
        self.conv_seg = ConvModule(self.channels, self.out_channels,
                                   **conv_kwargs)
        self.conv_img = ConvModule(self.channels, img_channels, **conv_kwargs)

    def forward(self, inputs):
        """Return parsing logits at the resolution of the backbone map."""
        return self.cls_seg(self._transform_inputs(inputs))

    def forward_restore(self, inputs):
        """Return the restored image, normalized like the input."""
        return self.conv_img(self._transform_inputs(inputs))
