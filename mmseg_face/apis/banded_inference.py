"""Label maps of large images without full-resolution logits for all classes.

mmseg's ``simple_test`` resizes the logits of every class to the original
image size before the softmax and argmax: ``num_classes x H x W`` floats
(7.6 GB for 19 classes at 10000 x 10000), plus the softmax of the same size.
:func:`predict_labels` runs the network exactly as ``inference_segmentor``
does (same pipeline, same network-resolution logits), then resizes,
normalises and takes the argmax one band of output rows at a time. Per pixel
this is the same computation as mmseg's; only the bilinear height weights
are applied by tensor arithmetic instead of torch's fused kernel, so the
resized logits agree to float rounding (about 1e-5 relative) and a label
can differ only where two classes tie within it (none did in the tests).
"""
import numpy as np
import torch
import torch.nn.functional as F
from mmcv.parallel import collate, scatter
from mmseg.apis import inference_segmentor
from mmseg.apis.inference import LoadImage
from mmseg.datasets.pipelines import Compose
from mmseg.models.segmentors import EncoderDecoder

from mmseg_face.models.segmentors import FaceEncoderDecoder

# Output pixels (over the whole batch) resized per band: a band then holds
# num_classes x BAND_PIXELS floats a few times over (about 80 MB each for 19
# classes), whatever the image size.
BAND_PIXELS = 1 << 20

# Test-time code whose semantics the banded path reproduces; a segmentor
# that overrides any of them is run with inference_segmentor instead.
_REPRODUCED = ('inference', 'whole_inference', 'simple_test', 'aug_test')


def _reproducible(model):
    known = (EncoderDecoder, FaceEncoderDecoder)
    return all(
        getattr(type(model), name) in [getattr(cls, name) for cls in known]
        for name in _REPRODUCED)


def _test_batch(model, imgs):
    """Views and metas of ``imgs`` through the test pipeline, as
    ``inference_segmentor`` prepares them."""
    pipeline = Compose([LoadImage()] + model.cfg.data.test.pipeline[1:])
    data = collate([pipeline(dict(img=img)) for img in imgs],
                   samples_per_gpu=len(imgs))
    device = next(model.parameters()).device
    if device.type == 'cuda':
        data = scatter(data, [device])[0]
    else:
        data['img_metas'] = [metas.data[0] for metas in data['img_metas']]
    return data['img'], data['img_metas']


def _network_logits(model, img, img_metas):
    """Logits at network resolution, cropped as ``whole_inference`` crops
    before it rescales (the slide mode has no padding to remove)."""
    if model.test_cfg.mode == 'slide':
        return model.slide_inference(img, img_metas, rescale=False)
    logits = model.encode_decode(img, img_metas)
    height, width = img_metas[0]['img_shape'][:2]
    return logits[:, :, :height, :width]


def _source_rows(out_size, in_size, start, stop, align_corners):
    """Source row indices and weights of bilinear output rows
    ``start:stop``, by the formula of torch's ``interpolate``."""
    dst = torch.arange(start, stop, dtype=torch.float32)
    if align_corners:
        ratio = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.
        src = torch.tensor(ratio, dtype=torch.float32) * dst
    else:
        ratio = torch.tensor(in_size, dtype=torch.float32) / out_size
        src = (ratio * (dst + 0.5) - 0.5).clamp_min(0)
    first = src.long().clamp_max(in_size - 1)
    weight = (src - first).clamp(0, 1)
    second = first + (first < in_size - 1).long()
    return first, second, 1 - weight, weight


def resize_rows(logits, size, start, stop, align_corners):
    """Rows ``start:stop`` of ``resize(logits, size, mode='bilinear')``.

    Args:
        logits (Tensor): ``(N, C, h, w)``.
        size (tuple[int, int]): Full output ``(H, W)``.
        start (int): First output row.
        stop (int): One past the last output row.
        align_corners (bool): As for ``F.interpolate``.

    Returns:
        Tensor: ``(N, C, stop - start, W)``.
    """
    height, width = size
    in_height = logits.shape[2]
    if in_height == height:
        rows = logits[:, :, start:stop]
        return F.interpolate(
            rows, size=(stop - start, width), mode='bilinear',
            align_corners=align_corners)
    first, second, first_weight, second_weight = _source_rows(
        height, in_height, start, stop, align_corners)
    low, high = int(first.min()), int(second.max()) + 1
    # Only the width is resized here (the height is copied), so the rows
    # needed by the band are interpolated once; the height weights follow.
    rows = F.interpolate(
        logits[:, :, low:high], size=(high - low, width), mode='bilinear',
        align_corners=align_corners)
    first_weight = first_weight.to(rows.device).view(1, 1, -1, 1)
    second_weight = second_weight.to(rows.device).view(1, 1, -1, 1)
    return (first_weight * rows[:, :, (first - low).to(rows.device)] +
            second_weight * rows[:, :, (second - low).to(rows.device)])


def _band_scores(model, logits, img_metas, size, start, stop):
    """Class scores of one view on output rows ``start:stop``, as
    ``inference`` computes them at full size (softmax, flip back, L/R
    classes restored)."""
    meta = img_metas[0]
    flip = meta['flip']
    direction = meta.get('flip_direction')
    if flip and direction == 'vertical':
        # The band of a vertically flipped view is the mirrored band.
        start, stop = size[0] - stop, size[0] - start
    band = resize_rows(logits, size, start, stop, model.align_corners)
    if model.out_channels == 1:
        scores = torch.sigmoid(band)
    else:
        scores = F.softmax(band, dim=1)
    if flip:
        scores = scores.flip(dims=(3, ) if direction == 'horizontal' else
                             (2, ))
        if direction == 'horizontal' and getattr(model, 'flip_pairs', ()):
            scores = scores[:, model.flip_perm]
    return scores


@torch.no_grad()
def predict_labels(model, imgs, band_pixels=None):
    """Label maps of images of one size, at that size, in bounded memory.

    Args:
        model (nn.Module): An mmseg segmentor with ``cfg`` (as
            ``init_segmentor`` returns), in eval mode.
        imgs (list[np.ndarray]): BGR images, all of the same size.
        band_pixels (int, optional): Output pixels, over the batch, resized
            at once; smaller batches go through ``inference_segmentor``
            whole. Default: None, which means :data:`BAND_PIXELS`.

    Returns:
        list[np.ndarray]: ``(H, W)`` uint8 label maps.
    """
    band_pixels = band_pixels or BAND_PIXELS
    height, width = imgs[0].shape[:2]
    if height * width * len(imgs) <= band_pixels or not _reproducible(model):
        return [np.asarray(result).astype(np.uint8)
                for result in inference_segmentor(model, imgs)]
    views, view_metas = _test_batch(model, imgs)
    logits = [_network_logits(model, img, metas)
              for img, metas in zip(views, view_metas)]
    labels = np.empty((len(imgs), height, width), np.uint8)
    band_rows = max(1, band_pixels // (width * len(imgs)))
    for start in range(0, height, band_rows):
        stop = min(height, start + band_rows)
        scores = None
        # aug_test's sum and mean of the views' scores, band by band.
        for view_logits, metas in zip(logits, view_metas):
            band = _band_scores(model, view_logits, metas, (height, width),
                                start, stop)
            scores = band if scores is None else scores.add_(band)
        if len(views) > 1:
            scores /= len(views)
        if model.out_channels == 1:
            band_labels = (scores > model.decode_head.threshold).squeeze(1)
        else:
            band_labels = scores.argmax(dim=1)
        labels[:, start:stop] = band_labels.cpu().numpy()
    return list(labels)
