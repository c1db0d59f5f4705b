"""FaRL's segmentor: logits at a fixed size, as its network returns them."""
from mmseg.models.builder import SEGMENTORS
from mmseg.ops import resize

from .face_encoder_decoder import FaceEncoderDecoder


@SEGMENTORS.register_module()
class FaRLEncoderDecoder(FaceEncoderDecoder):
    """Face encoder-decoder whose test logits come out at a fixed size.

    FaRL's ``FaceParsingTransformer`` resizes the head's 1/4 logits
    bilinearly to 512 x 512 whatever its 448 input; facer samples that map
    when it pastes the logits back into the image. Resizing straight to the
    input size and again later would differ slightly from it, so
    :meth:`encode_decode` gives ``logit_size`` logits; ``inference`` then
    rescales them to the original image as usual. Training is unchanged
    (the losses compare the head's output with the labels).

    Args:
        logit_size (tuple[int], optional): ``(H, W)`` of the test logits;
            None keeps mmseg's resize to the input. Default: None.
        **kwargs: Arguments of :class:`FaceEncoderDecoder`.
    """

    def __init__(self, logit_size=None, **kwargs):
        super().__init__(**kwargs)
        self.logit_size = tuple(logit_size) if logit_size else None

    def encode_decode(self, img, img_metas):
        if self.logit_size is None:
            return super().encode_decode(img, img_metas)
        out = self._decode_head_forward_test(self.extract_feat(img),
                                             img_metas)
        return resize(out, size=self.logit_size, mode='bilinear',
                      align_corners=self.align_corners)
