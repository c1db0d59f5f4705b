import inspect

from mmseg.core import add_prefix
from mmseg.models.builder import SEGMENTORS
from mmseg.models.segmentors import EncoderDecoder

from mmseg_face.core.flip_pairs import swap_permutation


@SEGMENTORS.register_module()
class FaceEncoderDecoder(EncoderDecoder):
    """Encoder-decoder for face parsing: edge-aware training, L/R flip test.

    Training passes the optional ``gt_edge`` map (from the ``GenerateFaceEdge``
    transform) on to decode heads whose ``forward_train`` accepts it; heads
    without an edge branch never see it. Testing uses the stock
    ``simple_test``/``aug_test``; for a horizontally flipped view the
    probabilities of each left/right class pair are swapped back after the
    spatial flip, because a mirrored left eye looks like a right eye.

    Args:
        flip_pairs (Sequence[tuple[int, int]]): Class id pairs swapped by a
            horizontal flip, normally the dataset's ``FLIP_PAIRS``.
            Default: ().
        **kwargs: Arguments of :class:`mmseg.models.EncoderDecoder`.
    """

    def __init__(self, flip_pairs=(), **kwargs):
        super().__init__(**kwargs)
        self.flip_pairs = tuple(tuple(pair) for pair in flip_pairs)
        self.flip_perm = swap_permutation(self.num_classes,
                                          self.flip_pairs).tolist()
        self.head_takes_edge = 'gt_edge' in inspect.signature(
            self.decode_head.forward_train).parameters

    def forward_train(self, img, img_metas, gt_semantic_seg, gt_edge=None):
        """Compute losses; ``gt_edge`` (N, 1, H, W) goes to edge-aware heads.

        Args:
            img (Tensor): Input images (N, C, H, W).
            img_metas (list[dict]): Image info dicts.
            gt_semantic_seg (Tensor): Labels (N, 1, H, W).
            gt_edge (Tensor, optional): Edge maps (N, 1, H, W) with 0/1 and
                255 for ignored pixels. Default: None.

        Returns:
            dict[str, Tensor]: Loss components.
        """
        x = self.extract_feat(img)
        losses = dict()
        losses.update(
            self._decode_head_forward_train(x, img_metas, gt_semantic_seg,
                                            gt_edge))
        if self.with_auxiliary_head:
            losses.update(
                self._auxiliary_head_forward_train(x, img_metas,
                                                   gt_semantic_seg))
        return losses

    def _decode_head_forward_train(self,
                                   x,
                                   img_metas,
                                   gt_semantic_seg,
                                   gt_edge=None):
        if not self.head_takes_edge:
            return super()._decode_head_forward_train(x, img_metas,
                                                      gt_semantic_seg)
        loss_decode = self.decode_head.forward_train(
            x, img_metas, gt_semantic_seg, self.train_cfg, gt_edge=gt_edge)
        return add_prefix(loss_decode, 'decode')

    def inference(self, img, img_meta, rescale):
        """Class probabilities, with L/R channels restored for flipped views.

        Args:
            img (Tensor): Input images (N, C, H, W).
            img_meta (list[dict]): Image info dicts.
            rescale (bool): Whether to resize to the original shape.

        Returns:
            Tensor: Probabilities (N, num_classes, H, W).
        """
        output = super().inference(img, img_meta, rescale)
        if (self.flip_pairs and img_meta[0]['flip']
                and img_meta[0]['flip_direction'] == 'horizontal'):
            output = output[:, self.flip_perm]
        return output
