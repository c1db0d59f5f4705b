"""High-level face-parsing API over mmseg's ``init_segmentor`` machinery."""
import os
import re
import warnings
from collections import OrderedDict
from pathlib import Path

import mmcv
import numpy as np
import torch
from mmcv.cnn.utils import revert_sync_batchnorm
from mmcv.parallel import collate, scatter
from mmseg.apis import init_segmentor
from mmseg.apis.inference import LoadImage
from PIL import Image
from mmseg.datasets import DATASETS
from mmseg.datasets.pipelines import Compose

from ..utils.checkpoint import load_fitting_checkpoint
from .banded_inference import predict_labels
from .face_alignment import (align_face, get_preset, paste_face_argmax,
                             paste_face_logits, paste_face_probs)
from .face_detection import MTCNNFaceDetector, as_face
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


def _same_size_chunks(images, batch_size):
    """Index lists of at most ``batch_size`` images of one size each: mmseg
    rescales a batch to its first image's original size."""
    groups = OrderedDict()
    for index, img in enumerate(images):
        groups.setdefault(img.shape[:2], []).append(index)
    for indices in groups.values():
        for start in range(0, len(indices), batch_size):
            yield indices[start:start + batch_size]


def _alignment_name(cfg, checkpoint_meta):
    """The crop a model was trained on: checkpoint meta, else the config's
    ``face_alignment``, else ``box``."""
    return (checkpoint_meta.get('face_alignment')
            or cfg.get('face_alignment') or 'box')


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
        >>> labels, faces, probs = parser.parse_wild('group_photo.jpg',
        ...                                          return_probs=True)

    Args:
        config (str | mmcv.Config): Model config.
        checkpoint (str, optional): Weights; None keeps the random
            initialisation. They must fit the model, or
            :class:`~mmseg_face.utils.checkpoint.CheckpointMismatchError`
            names the keys that do not. Default: None.
        device (str): Torch device. Default: 'cpu'.
        batch_size (int): Images per forward pass. Default: 4.
        detector (FaceDetector, optional): Face detector of
            :meth:`parse_wild`. Default: :class:`MTCNNFaceDetector` (five
            landmarks), created on first use.
        crop_size (int, optional): Side of the aligned face crops of
            :meth:`parse_wild`. Default: the shorter side of the test
            pipeline's ``img_scale``.
        margin (float): Context around each face box of the ``box``
            alignment, as a fraction of the box size per side. Default: 0.5.
        alignment (str, optional): How faces are cropped, one of
            :data:`~mmseg_face.apis.face_alignment.ALIGNMENT_PRESETS`
            (``celeba_hq``, ``farl``, ``box``, ``facer_celebm``,
            ``facer_lapa``). Default: the checkpoint
            meta's ``face_alignment``, else the config's, else ``box``.
            Faces without landmarks always get the ``box`` crop.
        optimize (bool): Fold BatchNorm into the convolutions and use
            channels-last memory (:func:`optimize_for_inference`): faster,
            with logits equal up to float rounding. Default: True.

    Attributes:
        model (nn.Module): The segmentor, in eval mode (optimised for
            inference unless ``optimize=False``).
        classes (tuple[str]): Class names in id order.
        palette (np.ndarray): ``(num_classes, 3)`` uint8 RGB colours.
        alignment (str): The alignment preset in use.
    """

    def __init__(self,
                 config,
                 checkpoint=None,
                 device='cpu',
                 batch_size=4,
                 detector=None,
                 crop_size=None,
                 margin=0.5,
                 optimize=True,
                 alignment=None):
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
        self.alignment = get_preset(
            alignment or _alignment_name(model.cfg, checkpoint_meta)).name


    @classmethod
    def from_pretrained(cls, name_or_path, device='cpu', model_name=None,
                        progress=True, **kwargs):
        """A parser with published weights, by name or from a local file.

        The weights are downloaded and converted on first use into
        ``$MMSEG_FACE_HOME`` (default ``~/.cache/mmseg_face``) and read from
        there afterwards, without network; a local copy of the original file
        is converted without network. The licence is printed on first use.
        See :mod:`mmseg_face.apis.published_models`.

        Args:
            name_or_path (str): A name of ``PUBLISHED_MODELS`` (e.g.
                ``'bisenet-zll-celebamask'``) or an original file.
            device (str): Torch device. Default: 'cpu'.
            model_name (str, optional): Which published model a local file
                is, when neither its sha256 nor its name tells. Default: None.
            progress (bool): Show a download progress bar. Default: True.
            **kwargs: The other arguments of :class:`FaceParser`.

        Returns:
            FaceParser: The parser.
        """
        from .published_models import resolve_published_model
        published, checkpoint = resolve_published_model(
            name_or_path, model_name=model_name, progress=progress)
        return cls(published.config_path, checkpoint, device=device,
                   **kwargs)

    @property
    def detector(self):
        """The face detector of :meth:`parse_wild`."""
        if self._detector is None:
            self._detector = MTCNNFaceDetector(
                device=next(self.model.parameters()).device)
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

    def parse_wild(self, imgs, faces=None, return_probs=False):
        """Parse every face of full images and paste the results back.

        Detect (one batched call for all images that need it), align each
        face with :attr:`alignment` at ``crop_size``, parse all crops of all
        images in batches, warp each crop's class probabilities back
        bilinearly (:func:`~mmseg_face.apis.face_alignment.paste_face_probs`:
        overlaps go to the face with the highest foreground probability,
        pixels of no face are background) and take the argmax. The facer
        presets (``facer_celebm``, ``facer_lapa``) sample the crops' logits
        back instead, as facer does
        (:func:`~mmseg_face.apis.face_alignment.paste_face_logits`).

        Args:
            imgs (str | np.ndarray | list): One image or a list.
            faces (list, optional): Skip detection and use these faces: for
                one image, a list of :class:`Face` or ``(x1, y1, x2, y2)``
                boxes; for a list of images, one such list per image, where
                None runs the detector on that image. Default: None, which
                runs :attr:`detector` on every image.
            return_probs (bool): Also return the ``(C, H, W)`` float32
                full-image probabilities. Default: False.

        Returns:
            tuple: ``(labels, faces)``, or ``(labels, faces, probs)`` with
            ``return_probs``: the full-size uint8 label map and the list of
            :class:`Face` used; for a list input, lists of them.
        """
        single = not isinstance(imgs, (list, tuple))
        images = [load_bgr_image(img) for img in ([imgs] if single else imgs)]
        per_image = self._faces_of(images, faces, single)
        crops, warps = [], []
        for img, image_faces in zip(images, per_image):
            for face in image_faces:
                crop, warp = align_face(img, face, self.alignment,
                                        self.crop_size, self.margin)
                crops.append(crop)
                warps.append(warp)
        facer = get_preset(self.alignment).facer_sampling
        crop_outputs = (self._infer_logits if facer else
                        self._infer_probs)(crops)
        labels, probs, start = [], [], 0
        for img, image_faces in zip(images, per_image):
            stop = start + len(image_faces)
            results = list(zip(crop_outputs[start:stop], warps[start:stop]))
            if facer and return_probs and results:
                image_labels, image_probs = paste_face_logits(
                    img.shape[:2], results, return_probs=True)
                labels.append(image_labels)
                probs.append(image_probs)
            elif facer and not return_probs:
                labels.append(paste_face_logits(img.shape[:2], results))
            elif return_probs:
                image_probs = paste_face_probs(img.shape[:2], results,
                                               len(self.classes))
                probs.append(image_probs)
                labels.append(image_probs.argmax(0).astype(np.uint8))
            else:
                labels.append(paste_face_argmax(img.shape[:2], results))
            start = stop
        outputs = (labels, per_image) + ((probs, ) if return_probs else ())
        if single:
            return tuple(output[0] for output in outputs)
        return outputs

    def parse_crops(self, img, faces):
        """Align and parse the faces of one image, without pasting back.

        Args:
            img (str | np.ndarray): The image.
            faces (list): :class:`Face` objects or ``(x1, y1, x2, y2)`` boxes.

        Returns:
            list[tuple]: ``(probs, warp)`` per face: ``(C, crop_size,
            crop_size)`` float32 class probabilities of the crop and its
            :class:`~mmseg_face.apis.face_alignment.FaceWarp`, ready for
            :func:`~mmseg_face.apis.face_alignment.paste_face_probs`; for
            the facer presets ``(logits, warp)``, the model's logits (at its
            output size) for
            :func:`~mmseg_face.apis.face_alignment.paste_face_logits`.
        """
        img = load_bgr_image(img)
        aligned = [
            align_face(img, as_face(face), self.alignment, self.crop_size,
                       self.margin) for face in faces
        ]
        infer = self._infer_logits if get_preset(
            self.alignment).facer_sampling else self._infer_probs
        probs = infer([crop for crop, _ in aligned])
        return [(p, warp) for p, (_, warp) in zip(probs, aligned)]

    def _faces_of(self, images, faces, single):
        """Given faces as :class:`Face` lists; the detector fills the gaps,
        in one batched call."""
        if faces is None:
            given = [None] * len(images)
        else:
            given = [faces] if single else list(faces)
            if len(given) != len(images):
                raise ValueError(f'got face lists for {len(given)} images '
                                 f'but {len(images)} images')
        per_image = [
            None if image_faces is None else
            [as_face(face) for face in image_faces] for image_faces in given
        ]
        missing = [i for i, image_faces in enumerate(per_image)
                   if image_faces is None]
        if missing:
            detector = self.detector
            batch = [images[i] for i in missing]
            detect_batch = getattr(detector, 'detect_batch', None)
            found = detect_batch(batch) if detect_batch else [
                detector.detect(img) for img in batch
            ]
            for index, image_faces in zip(missing, found):
                per_image[index] = list(image_faces)
        return per_image

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
        labels = [None] * len(images)
        for chunk in _same_size_chunks(images, self.batch_size):
            results = predict_labels(self.model, [images[i] for i in chunk])
            for index, result in zip(chunk, results):
                labels[index] = result
        return labels

    def _infer_logits(self, images):
        """Logits ``(C, h, w)`` float32 of (float or uint8) BGR crops, as
        the model's ``encode_decode`` gives them (for facer's FaRL models
        at 512 x 512, as its network does), through the config's test
        pipeline, which must make one view (logits of flipped views do not
        average)."""
        pipeline = Compose([LoadImage()] +
                           self.model.cfg.data.test.pipeline[1:])
        device = next(self.model.parameters()).device
        logits = [None] * len(images)
        for chunk in _same_size_chunks(images, self.batch_size):
            data = collate([pipeline(dict(img=images[i])) for i in chunk],
                           samples_per_gpu=len(chunk))
            if len(data['img']) != 1:
                raise ValueError(
                    f'the {self.alignment} alignment pastes logits back, '
                    'which needs a test pipeline of one view (no flip or '
                    f'multi-scale test), got {len(data["img"])} views')
            if device.type == 'cuda':
                data = scatter(data, [device])[0]
            else:
                data['img_metas'] = [m.data[0] for m in data['img_metas']]
            with torch.no_grad():
                out = self.model.encode_decode(data['img'][0],
                                               data['img_metas'][0])
            for index, image_logits in zip(chunk, out.float().cpu().numpy()):
                logits[index] = image_logits
        return logits

    def _infer_probs(self, images):
        """Class probabilities ``(C, H, W)`` float32 of BGR arrays (views
        of channel-last arrays).

        The config's test pipeline and mmseg's ``aug_test`` rule (the mean
        of the views' probabilities) as ``inference_segmentor`` uses them,
        stopping before the argmax. Equal sizes are batched.
        """
        pipeline = Compose([LoadImage()] +
                           self.model.cfg.data.test.pipeline[1:])
        device = next(self.model.parameters()).device
        probs = [None] * len(images)
        for chunk in _same_size_chunks(images, self.batch_size):
            data = collate([pipeline(dict(img=images[i])) for i in chunk],
                           samples_per_gpu=len(chunk))
            if device.type == 'cuda':
                data = scatter(data, [device])[0]
            else:
                data['img_metas'] = [m.data[0] for m in data['img_metas']]
            with torch.no_grad():
                views = [
                    self.model.inference(img, metas, rescale=True)
                    for img, metas in zip(data['img'], data['img_metas'])
                ]
            mean = (sum(views) / len(views)).float().cpu()
            # Channel-last memory: paste-back samples all classes of a
            # pixel at once (FaceWarp.sample_at_image).
            channels_last = mean.permute(0, 2, 3, 1).contiguous().numpy()
            for index, image_probs in zip(chunk, channels_last):
                probs[index] = image_probs.transpose(2, 0, 1)
        return probs
