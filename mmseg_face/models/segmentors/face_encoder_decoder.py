import inspect

import numpy as np
from mmseg.core import add_prefix
from mmseg.models.builder import SEGMENTORS
from mmseg.models.segmentors import EncoderDecoder
from mmseg.ops import resize

from mmseg_face.core.dense_crf import check_crf_cfg, dense_crf
from mmseg_face.core.flip_pairs import swap_permutation

FLIP_DIMS = dict(horizontal=(2, ), vertical=(1, ), diagonal=(1, 2))


def crf_image(img, img_meta, size, rescale):
    """The uint8 (H, W, 3) picture behind one test tensor, at ``size``.

    Undoes what the test pipeline did to ``img`` (C, H, W): padding (when
    the probabilities were rescaled to the original shape), the flip of a
    flipped view and the normalisation (``img_norm_cfg``), then resizes to
    the probabilities' ``size`` (H, W).
    """
    image = img
    if rescale:
        height, width = img_meta['img_shape'][:2]
        image = image[:, :height, :width]
    if img_meta.get('flip'):
        image = image.flip(FLIP_DIMS[img_meta['flip_direction']])
    if tuple(image.shape[-2:]) != tuple(size):
        image = resize(image[None], size=tuple(size), mode='bilinear',
                       align_corners=False)[0]
    norm = img_meta['img_norm_cfg']
    image = image.permute(1, 2, 0).cpu().numpy() * norm['std'] + norm['mean']
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


@SEGMENTORS.register_module()
class FaceEncoderDecoder(EncoderDecoder):
    """Encoder-decoder for face parsing: edge-aware training, L/R flip test.

    Training passes the optional ``gt_edge`` map (from the ``GenerateFaceEdge``
    transform) on to decode heads whose ``forward_train`` accepts it; heads
    without an edge branch never see it. Testing uses the stock
    ``simple_test``/``aug_test``; for a horizontally flipped view the
    probabilities of each left/right class pair are swapped back after the
    spatial flip, because a mirrored left eye looks like a right eye.

    ``test_cfg.crf`` (a dict of :func:`mmseg_face.core.dense_crf.dense_crf`
    arguments, e.g. ``DEEPLAB_V1_CRF``) adds DeepLab v1's fully connected
    CRF: the final probabilities (averaged over the views in ``aug_test``)
    are refined against the image of the first view before the argmax. It
    needs the optional package pydensecrf2, checked when the model is built.

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
        self.crf_cfg = (self.test_cfg or {}).get('crf')
        if self.crf_cfg is not None:
            check_crf_cfg(self.crf_cfg)

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

    def simple_test(self, img, img_meta, rescale=True):
        """Label maps, refined by the dense CRF when ``test_cfg.crf`` is set.
        """
        if self.crf_cfg is None:
            return super().simple_test(img, img_meta, rescale)
        probs = self.inference(img, img_meta, rescale)
        return self.crf_labels(probs, img, img_meta, rescale)

    def aug_test(self, imgs, img_metas, rescale=True):
        """Label maps of the averaged views, CRF-refined when configured."""
        if self.crf_cfg is None:
            return super().aug_test(imgs, img_metas, rescale)
        probs = sum(
            self.inference(img, img_meta, rescale)
            for img, img_meta in zip(imgs, img_metas)) / len(imgs)
        return self.crf_labels(probs, imgs[0], img_metas[0], rescale)

    def crf_labels(self, probs, img, img_meta, rescale):
        """Arg-max labels of ``probs`` (N, C, H, W) after the dense CRF.

        Args:
            probs (Tensor): Class probabilities of the batch.
            img (Tensor): The test tensors (N, 3, h, w) they came from.
            img_meta (list[dict]): Their image info dicts.
            rescale (bool): Whether ``probs`` were resized to the original
                shape.

        Returns:
            list[np.ndarray]: One (H, W) int64 label map per image.
        """
        labels = []
        for image_probs, image, meta in zip(probs, img, img_meta):
            picture = crf_image(image, meta, image_probs.shape[-2:], rescale)
            marginals = dense_crf(picture, image_probs.cpu().numpy(),
                                  **self.crf_cfg)
            labels.append(marginals.argmax(axis=0))
        return labels
