"""High-level face-parsing API over mmseg's ``init_segmentor`` machinery."""
import os
import re
import warnings
from collections import OrderedDict
from pathlib import Path

import mmcv
import numpy as np
from mmcv.cnn.utils import revert_sync_batchnorm
from PIL import Image
from mmseg.apis import init_segmentor
from mmseg.datasets import DATASETS

from ..utils.checkpoint import load_fitting_checkpoint
from .banded_inference import predict_labels
from .face_detection import (HaarCascadeFaceDetector, as_face, crop_face,
                             paste_face_labels)
from .inference_optimization import optimize_for_inference
from .visualization import class_masks, colorize_labels, render_overlay


class ImageReadError(ValueError):
    """An image file could not be read.

    Attributes:
        path (str): The file.
        reason (str): What went wrong.
    """

    def __init__(self, path, reason):
        super().__init__(f'{path}: {reason}')
        self.path = path
        self.reason = reason


def _decode_pixel_limit():
    """OpenCV's pixel limit for decoding, which its environment variable
    sets (read once, when OpenCV loads)."""
    return int(os.environ.get('OPENCV_IO_MAX_IMAGE_PIXELS', 1 << 30))


def _oversize_reason(path):
    """Why ``path`` failed to decode if it is too large, else None.

    Only the header is read, to explain OpenCV's refusal (its own message is
    an assertion on an internal constant, without the size).
    """
    limit = _decode_pixel_limit()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
        size = f'{width}x{height} image ({width * height:,} pixels)'
        pixels = width * height
    except Image.DecompressionBombError as error:
        # Pillow's own, lower limit: its message holds the pixel count.
        counted = re.search(r'\((\d+) pixels\)', str(error))
        if counted is None:
            return None
        pixels = int(counted.group(1))
        size = f'image of {pixels:,} pixels'
    except Exception:  # noqa: B902 (not an image Pillow knows: no size)
        return None
    if pixels <= limit:
        return None
    return (f'{size} exceeds the decoding limit of {limit:,} pixels (raise '
            f'it with the environment variable OPENCV_IO_MAX_IMAGE_PIXELS)')


def load_bgr_image(img):
    """Read an image path or check an array; return a ``(H, W, 3)`` BGR array.

    Args:
        img (str | Path | np.ndarray): File path, or a uint8 image in BGR
            order (as ``mmcv.imread`` returns); a ``(H, W)`` grey image is
            expanded to three channels.

    Returns:
        np.ndarray: uint8 ``(H, W, 3)`` BGR image.

    Raises:
        ImageReadError: If a file is missing or not a decodable image.
    """
    if isinstance(img, (str, Path)):
        path = str(img)
        try:
            array = mmcv.imread(path)
        except Exception as error:
            raise ImageReadError(
                path, _oversize_reason(path) or
                f'cannot read image ({str(error).strip()})') from error
        if array is None:
            raise ImageReadError(
                path, _oversize_reason(path) or 'not a readable image file')
        return array
    if not isinstance(img, np.ndarray):
        raise TypeError(f'an image must be a path or a numpy array, got '
                        f'{type(img).__name__}')
    if img.dtype != np.uint8:
        raise ValueError(f'image arrays must be uint8, got {img.dtype}')
    if img.ndim == 2:
        return np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'image arrays must be (H, W, 3) BGR or (H, W) '
                         f'grey, got shape {img.shape}')
    return img


def _dataset_meta(cfg, checkpoint_meta):
    """Class names and palette: checkpoint meta first, else the dataset."""
    if 'CLASSES' in checkpoint_meta and 'PALETTE' in checkpoint_meta:
        return checkpoint_meta['CLASSES'], checkpoint_meta['PALETTE']
    test_data = cfg.data.test
    dataset_cls = DATASETS.get(test_data.type)
    if dataset_cls is None:
        raise KeyError(f'dataset type {test_data.type!r} of the config is not '
                       f'registered, and the checkpoint has no '
                       f'CLASSES/PALETTE meta')
    classes = test_data.get('classes') or dataset_cls.CLASSES
    palette = test_data.get('palette') or dataset_cls.PALETTE
    if classes is None or palette is None:
        raise ValueError(f'{dataset_cls.__name__} defines no CLASSES/PALETTE '
                         f'and the checkpoint has none in its meta')
    return classes, palette


def _test_scale(cfg):
    """Shorter side of the test-time resize, the natural face-crop size."""
    for step in cfg.data.test.pipeline:
        scale = step.get('img_scale')
        if scale is None and step.get('type') == 'Resize':
            scale = step.get('scale')
        if scale is not None:
            if isinstance(scale, list):
                scale = scale[0]
            return int(min(scale))
    return None


class FaceParser:
    """Parse face images with an mmseg segmentor.

    The model is built with mmseg's ``init_segmentor`` (SyncBN reverted to
    BN so that it runs anywhere) and images go through the config's test
    pipeline with ``inference_segmentor``, so resizing, normalisation and
    test-time options are exactly those of ``tools/test.py``. Above about a
    megapixel per batch the logits are brought to the input size and turned
    into labels a band of rows at a time (:func:`predict_labels`), so memory
    stays bounded on large images with the same labels.

    Example:
        >>> parser = FaceParser('local_configs/.../cfg.py', 'latest.pth')
        >>> labels = parser.parse('face.jpg')          # (H, W) uint8 ids
        >>> overlay = parser.overlay('face.jpg', labels)
        >>> labels, faces = parser.parse_wild('group_photo.jpg')

    Args:
        config (str | mmcv.Config): Model config.
        checkpoint (str, optional): Weights; None keeps the random
            initialisation. They must fit the model, or
            :class:`~mmseg_face.utils.checkpoint.CheckpointMismatchError`
            names the keys that do not. Default: None.
        device (str): Torch device. Default: 'cpu'.
        batch_size (int): Images per forward pass. Default: 4.
        detector (FaceDetector, optional): Face detector of
            :meth:`parse_wild`. Default: :class:`HaarCascadeFaceDetector`,
            created on first use.
        crop_size (int, optional): Side of the aligned face crops of
            :meth:`parse_wild`. Default: the shorter side of the test
            pipeline's ``img_scale``.
        margin (float): Context around each detected face box, as a fraction
            of the box size per side. Default: 0.5.
        optimize (bool): Fold BatchNorm into the convolutions and use
            channels-last memory (:func:`optimize_for_inference`): faster,
            with logits equal up to float rounding. Default: True.

    Attributes:
        model (nn.Module): The segmentor, in eval mode (optimised for
            inference unless ``optimize=False``).
        classes (tuple[str]): Class names in id order.
        palette (np.ndarray): ``(num_classes, 3)`` uint8 RGB colours.
    """

    def __init__(self,
                 config,
                 checkpoint=None,
                 device='cpu',
                 batch_size=4,
                 detector=None,
                 crop_size=None,
                 margin=0.5,
                 optimize=True):
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        model = init_segmentor(config, checkpoint=None, device='cpu')
        model = revert_sync_batchnorm(model)
        checkpoint_meta = {}
        if checkpoint is not None:
            loaded = load_fitting_checkpoint(model, checkpoint,
                                             map_location='cpu')
            checkpoint_meta = loaded.get('meta', {}) or {}
        classes, palette = _dataset_meta(model.cfg, checkpoint_meta)
        num_classes = model.decode_head.num_classes
        if num_classes > 256:
            raise ValueError(f'label maps are uint8, so at most 256 classes '
                             f'are supported, got {num_classes}')
        if len(classes) != num_classes or len(palette) != num_classes:
            raise ValueError(
                f'the model predicts {num_classes} classes but its dataset '
                f'meta has {len(classes)} names and {len(palette)} colours')
        model.CLASSES, model.PALETTE = classes, palette
        model = model.to(device).eval()
        self.model = optimize_for_inference(model, inplace=True) \
            if optimize else model
        self.classes = tuple(classes)
        self.palette = np.asarray(palette, dtype=np.uint8)
        self.batch_size = batch_size
        self._detector = detector
        self.crop_size = crop_size or _test_scale(model.cfg)
        if self.crop_size is None:
            raise ValueError('the test pipeline has no img_scale; pass '
                             'crop_size to FaceParser')
        self.margin = margin

    @property
    def detector(self):
        """The face detector of :meth:`parse_wild`."""
        if self._detector is None:
            self._detector = HaarCascadeFaceDetector()
        return self._detector

    def parse(self, imgs):
        """Parse whole images, each taken as one (pre-cropped) face.

        Images of the same size are batched into one forward pass of up to
        ``batch_size`` images.

        Args:
            imgs (str | np.ndarray | list): An image path or BGR array, or a
                list of them.

        Returns:
            np.ndarray | list[np.ndarray]: ``(H, W)`` uint8 class ids at each
            input's own resolution; a list for a list input.
        """
        single = not isinstance(imgs, (list, tuple))
        images = [load_bgr_image(img) for img in ([imgs] if single else imgs)]
        labels = self._infer(images)
        return labels[0] if single else labels

    def parse_wild(self, imgs, faces=None):
        """Parse every face of full images and paste the labels back.

        Each face is cropped with ``margin`` around its box, rotated upright
        when its eye centres are known, resized to ``crop_size``, parsed
        (all crops of all images batched together) and warped back.

        Args:
            imgs (str | np.ndarray | list): One image or a list.
            faces (list, optional): Skip detection and use these faces: for
                one image, a list of :class:`Face` or ``(x1, y1, x2, y2)``
                boxes; for a list of images, one such list per image, where
                None runs the detector on that image. Default: None, which
                runs :attr:`detector` on every image.

        Returns:
            tuple: ``(labels, faces)``: the full-size uint8 label map and the
            list of :class:`Face` used; for a list input, a list of label
            maps and a list of face lists. Pixels of no face are background.
        """
        single = not isinstance(imgs, (list, tuple))
        images = [load_bgr_image(img) for img in ([imgs] if single else imgs)]
        if faces is None:
            given = [None] * len(images)
        else:
            given = [faces] if single else list(faces)
            if len(given) != len(images):
                raise ValueError(f'got face lists for {len(given)} images '
                                 f'but {len(images)} images')
        per_image = [
            self.detector.detect(img) if image_faces is None else
            [as_face(face) for face in image_faces]
            for img, image_faces in zip(images, given)
        ]
        crop_hw = (self.crop_size, self.crop_size)
        crops, matrices = [], []
        for img, image_faces in zip(images, per_image):
            for face in image_faces:
                crop, matrix = crop_face(img, face, crop_hw, self.margin)
                crops.append(crop)
                matrices.append(matrix)
        crop_labels = self._infer(crops)
        labels, start = [], 0
        for img, image_faces in zip(images, per_image):
            stop = start + len(image_faces)
            labels.append(
                paste_face_labels(img.shape[:2], crop_labels[start:stop],
                                  matrices[start:stop], image_faces))
            start = stop
        if single:
            return labels[0], per_image[0]
        return labels, per_image

    def overlay(self, img, labels, opacity=0.5):
        """Blend the palette colours of ``labels`` over ``img`` (BGR)."""
        return render_overlay(load_bgr_image(img), labels, self.palette,
                              opacity)

    def colorize(self, labels):
        """Colour image (BGR) of a label map with the dataset palette."""
        return colorize_labels(labels, self.palette)

    def masks(self, labels, names):
        """Binary 0/255 masks of the named classes, ``{name: mask}``."""
        return class_masks(labels, self.classes, names)

    def _infer(self, images):
        """Run the segmentor on BGR arrays, batching equal sizes."""
        groups = OrderedDict()
        for index, img in enumerate(images):
            groups.setdefault(img.shape[:2], []).append(index)
        labels = [None] * len(images)
        # mmseg rescales a batch to the first image's original size, so only
        # images of one size may share a forward pass.
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start:start + self.batch_size]
                results = predict_labels(self.model,
                                         [images[i] for i in chunk])
                for index, result in zip(chunk, results):
                    labels[index] = result
        return labels
