import cv2
import numpy as np
import pytest

import mmcv
import torch
from mmseg.models.segmentors import EncoderDecoder

import mmseg_face.apis.face_parser as face_parser_module
from mmseg_face.apis import (Face, FaceParser, HaarCascadeFaceDetector,
                             MTCNNFaceDetector, paste_face_probs)
from mmseg_face.datasets import CelebAMaskHQDataset

from face_api_helpers import (TINY_CONFIG, draw_face, save_tiny_checkpoint,
                              smooth_image)


@pytest.fixture
def count_forwards(monkeypatch):
    """Record the batch size of every call to mmseg's inference_segmentor."""
    batches = []
    original = face_parser_module.inference_segmentor

    def counting(model, imgs):
        batches.append(len(imgs))
        return original(model, imgs)

    monkeypatch.setattr(face_parser_module, 'inference_segmentor', counting)
    return batches


@pytest.fixture
def count_prob_forwards(monkeypatch):
    """Record the batch size of every probability pass (parse_wild's)."""
    batches = []
    original = EncoderDecoder.inference

    def counting(self, img, img_meta, rescale):
        batches.append(len(img))
        return original(self, img, img_meta, rescale)

    monkeypatch.setattr(EncoderDecoder, 'inference', counting)
    return batches


def test_path_array_and_list_give_the_same_labels(tiny_parser,
                                                  tmp_path):
    img = smooth_image(48, 72)
    path = str(tmp_path / 'face.png')
    cv2.imwrite(path, img)

    from_path = tiny_parser.parse(path)
    from_array = tiny_parser.parse(img)
    from_list = tiny_parser.parse([path, img])

    assert from_path.dtype == np.uint8
    assert len(np.unique(from_path)) >= 2  # not a constant map
    np.testing.assert_array_equal(from_path, from_array)
    assert isinstance(from_list, list) and len(from_list) == 2
    np.testing.assert_array_equal(from_list[0], from_path)
    np.testing.assert_array_equal(from_list[1], from_path)


@pytest.mark.parametrize('height, width', [(37, 91), (90, 41)])
def test_labels_have_the_input_size(tiny_parser, height, width):
    labels = tiny_parser.parse(smooth_image(height, width))
    assert labels.shape == (height, width)
    assert labels.max() < len(tiny_parser.classes)


def test_batch_of_four_is_one_forward_equal_to_single_calls(
        tiny_parser, count_forwards):
    images = [smooth_image(40, 56, seed=seed) for seed in range(4)]
    singles = [tiny_parser.parse(img) for img in images]
    assert count_forwards == [1, 1, 1, 1]

    batched = tiny_parser.parse(images)

    assert count_forwards[4:] == [4]
    for one, many in zip(singles, batched):
        np.testing.assert_array_equal(one, many)
    # Different inputs give different maps, so the order is really checked.
    assert not np.array_equal(singles[0], singles[1])


def test_mixed_sizes_are_batched_per_size_in_input_order(
        tiny_parser, count_forwards):
    images = [smooth_image(40, 56, 0), smooth_image(30, 30, 1),
              smooth_image(40, 56, 2)]
    expected = [tiny_parser.parse(img) for img in images]
    del count_forwards[:]

    labels = tiny_parser.parse(images)

    assert sorted(count_forwards) == [1, 2]
    assert [label.shape for label in labels] == [(40, 56), (30, 30),
                                                 (40, 56)]
    for want, got in zip(expected, labels):
        np.testing.assert_array_equal(want, got)


def test_classes_and_palette_come_from_the_checkpoint_meta(
        tiny_checkpoint, tmp_path):
    parser = FaceParser(TINY_CONFIG, tiny_checkpoint)
    assert parser.classes == CelebAMaskHQDataset.CLASSES
    np.testing.assert_array_equal(parser.palette,
                                  CelebAMaskHQDataset.PALETTE)
    assert parser.classes[13] == 'hair'
    assert parser.palette[1].tolist() == [204, 0, 0]  # skin, official RGB


def test_classes_fall_back_to_the_config_dataset(tmp_path):
    checkpoint = save_tiny_checkpoint(
        str(tmp_path / 'no_meta.pth'), with_meta=False)
    parser = FaceParser(TINY_CONFIG, checkpoint)
    assert parser.classes == CelebAMaskHQDataset.CLASSES
    assert parser.palette.shape == (19, 3)


def test_syncbn_is_converted_for_cpu_inference(tiny_checkpoint):
    import torch
    parser = FaceParser(TINY_CONFIG, tiny_checkpoint, optimize=False)
    norms = [m for m in parser.model.modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms  # the config uses SyncBN everywhere
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in norms)


def test_optimised_parser_folds_bn_and_gives_the_same_labels(
        tiny_parser, tiny_checkpoint):
    import torch
    plain = FaceParser(TINY_CONFIG, tiny_checkpoint, optimize=False)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                   for m in tiny_parser.model.modules())
    images = [smooth_image(64, 64, seed=seed) for seed in range(3)]
    for fast, reference in zip(tiny_parser.parse(images),
                               plain.parse(images)):
        assert len(np.unique(reference)) >= 2
        assert (fast == reference).mean() >= 0.999


def test_unreadable_file_names_the_file(tiny_parser, tmp_path):
    bad = tmp_path / 'broken.jpg'
    bad.write_bytes(b'not an image at all')
    with pytest.raises(ValueError, match='broken.jpg'):
        tiny_parser.parse(str(bad))


def test_bad_arrays_are_rejected(tiny_parser):
    with pytest.raises(ValueError, match='uint8'):
        tiny_parser.parse(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match='shape'):
        tiny_parser.parse(np.zeros((8, 8, 4), np.uint8))


def test_overlay_and_masks_helpers(tiny_parser):
    img = smooth_image(32, 48)
    labels = tiny_parser.parse(img)
    overlay = tiny_parser.overlay(img, labels, opacity=0.5)
    colour = tiny_parser.palette[labels][..., ::-1].astype(np.float32)
    expected = np.rint(0.5 * img + 0.5 * colour)
    assert np.abs(overlay.astype(np.float32) - expected).max() <= 0.5

    present = tiny_parser.classes[int(labels[0, 0])]
    masks = tiny_parser.masks(labels, [present, 'hair'])
    assert masks[present][0, 0] == 255
    np.testing.assert_array_equal(masks['hair'] == 255, labels == 13)
    with pytest.raises(ValueError, match='beard'):
        tiny_parser.masks(labels, ['beard'])


class BoxDetector:
    """Stub detector that returns fixed boxes, recording what it saw."""

    def __init__(self, boxes):
        self.boxes = boxes
        self.calls = 0

    def detect(self, img):
        self.calls += 1
        return [Face(box=box) for box in self.boxes]


def _canvas_with_faces(height, width, placements):
    canvas = np.full((height, width, 3), 90, np.uint8)
    for (x, y), face in placements:
        canvas[y:y + face.shape[0], x:x + face.shape[1]] = face
    return canvas


def test_parse_wild_puts_each_face_labels_where_that_face_is(tiny_checkpoint):
    face_a, face_b = draw_face(40, seed=1), draw_face(56, seed=2)
    box_a = (30, 20, 70, 60)      # face_a pasted at (30, 20)
    box_b = (150, 90, 206, 146)   # face_b pasted at (150, 90)
    img = _canvas_with_faces(180, 240, [((30, 20), face_a),
                                        ((150, 90), face_b)])
    detector = BoxDetector([box_a, box_b])
    parser = FaceParser(TINY_CONFIG, tiny_checkpoint, detector=detector,
                        crop_size=64, margin=0.25)

    labels, faces = parser.parse_wild(img)

    assert detector.calls == 1
    assert [f.box for f in faces] == [tuple(map(float, box_a)),
                                      tuple(map(float, box_b))]
    assert labels.shape == img.shape[:2]
    # Each face alone, shifted to another place, must give the same labels
    # shifted by the same amount: the pasted labels follow the face.
    for (x1, y1, x2, y2), face, shift in [(box_a, face_a, (100, 60)),
                                          (box_b, face_b, (-120, -70))]:
        dx, dy = shift
        alone = _canvas_with_faces(180, 240, [((x1 + dx, y1 + dy), face)])
        alone_labels, _ = parser.parse_wild(
            alone, faces=[(x1 + dx, y1 + dy, x2 + dx, y2 + dy)])
        pad = int((x2 - x1) * 0.25)
        region = (slice(y1 - pad, y2 + pad), slice(x1 - pad, x2 + pad))
        moved = (slice(y1 - pad + dy, y2 + pad + dy),
                 slice(x1 - pad + dx, x2 + pad + dx))
        assert (labels[region] > 0).mean() > 0.5
        np.testing.assert_array_equal(labels[region], alone_labels[moved])
    # Nothing is painted outside the two crops.
    outside = np.ones(img.shape[:2], bool)
    for x1, y1, x2, y2 in (box_a, box_b):
        pad = int((x2 - x1) * 0.25) + 1
        outside[y1 - pad:y2 + pad, x1 - pad:x2 + pad] = False
    assert (labels[outside] == 0).all()


def test_parse_wild_batches_all_faces_of_all_images(tiny_checkpoint,
                                                    count_prob_forwards):
    parser = FaceParser(TINY_CONFIG, tiny_checkpoint, crop_size=48,
                        batch_size=8)
    images = [np.full((100, 120, 3), v, np.uint8) for v in (60, 120)]
    faces = [[(10, 10, 40, 40), (60, 20, 100, 60)], [(30, 30, 80, 80)]]

    labels, used = parser.parse_wild(images, faces=faces)

    assert count_prob_forwards == [3]
    assert [len(f) for f in used] == [2, 1]
    assert [label.shape for label in labels] == [(100, 120)] * 2
    with pytest.raises(ValueError, match='2 images'):
        parser.parse_wild(images, faces=faces[:1])


def test_parse_wild_without_faces_is_all_background(tiny_checkpoint):
    parser = FaceParser(TINY_CONFIG, tiny_checkpoint,
                        detector=BoxDetector([]))
    labels, faces = parser.parse_wild(smooth_image(50, 70))
    assert faces == [] and labels.shape == (50, 70)
    assert not labels.any()


def test_crop_size_defaults_to_the_test_scale(tiny_parser):
    assert tiny_parser.crop_size == 64


def test_parse_wild_with_the_haar_detector(tiny_checkpoint):
    """Two cartoon faces, found by OpenCV's bundled Haar cascade."""
    img = np.full((260, 420, 3), 90, np.uint8)
    corners = [(20, 30), (260, 130)]
    for seed, (x, y) in enumerate(corners):
        img[y:y + 112, x:x + 112] = draw_face(112, seed)
    parser = FaceParser(TINY_CONFIG, tiny_checkpoint, margin=0.25,
                        detector=HaarCascadeFaceDetector())

    labels, faces = parser.parse_wild(img)

    assert len(faces) == 2
    faces = sorted(faces, key=lambda f: f.box[0])
    for face, (x, y) in zip(faces, corners):
        centre_x = (face.box[0] + face.box[2]) / 2
        centre_y = (face.box[1] + face.box[3]) / 2
        assert x + 40 < centre_x < x + 72 and y + 40 < centre_y < y + 72
    inside = np.zeros(img.shape[:2], bool)
    for face in faces:
        x1, y1, x2, y2 = face.box
        pad = (x2 - x1) * 0.25 + 1
        inside[int(y1 - pad):int(y2 + pad) + 1,
               int(x1 - pad):int(x2 + pad) + 1] = True
        assert labels[int(y1):int(y2), int(x1):int(x2)].any()
    assert not labels[~inside].any()


def test_parse_wild_detects_only_images_without_given_faces(
        tiny_checkpoint):
    detector = BoxDetector([(5, 5, 25, 25)])
    parser = FaceParser(TINY_CONFIG, tiny_checkpoint, detector=detector,
                        crop_size=32)
    images = [smooth_image(40, 40, s) for s in range(2)]

    _, faces = parser.parse_wild(images, faces=[[(10, 10, 30, 30)], None])

    assert detector.calls == 1
    assert faces[0][0].box == (10.0, 10.0, 30.0, 30.0)
    assert faces[1][0].box == (5.0, 5.0, 25.0, 25.0)


def test_alignment_comes_from_checkpoint_then_config_then_box(
        tiny_checkpoint, tmp_path):
    assert FaceParser(TINY_CONFIG, tiny_checkpoint).alignment == 'box'
    cfg = mmcv.Config.fromfile(TINY_CONFIG)
    cfg.face_alignment = 'celeba_hq'
    assert FaceParser(cfg, tiny_checkpoint).alignment == 'celeba_hq'
    checkpoint = torch.load(tiny_checkpoint, weights_only=False)
    checkpoint['meta']['face_alignment'] = 'farl'
    farl_checkpoint = str(tmp_path / 'farl.pth')
    torch.save(checkpoint, farl_checkpoint)
    assert FaceParser(cfg, farl_checkpoint).alignment == 'farl'
    assert FaceParser(cfg, farl_checkpoint,
                      alignment='box').alignment == 'box'
    with pytest.raises(ValueError, match="unknown face alignment 'ffhq'"):
        FaceParser(TINY_CONFIG, tiny_checkpoint, alignment='ffhq')


def test_the_configs_name_the_crops_their_datasets_have():
    root = 'local_configs/ehanet/ehanet_r18_8xb2_512x512_200e_'
    for dataset, alignment in [('celebamask_hq', 'celeba_hq'),
                               ('lapa', 'box'), ('helen', 'box')]:
        cfg = mmcv.Config.fromfile(f'{root}{dataset}.py')
        assert cfg.face_alignment == alignment


def test_default_detector_is_mtcnn(tiny_parser):
    assert isinstance(tiny_parser.detector, MTCNNFaceDetector)


def test_probabilities_agree_with_the_labels_of_the_test_pipeline(
        tiny_parser):
    images = [smooth_image(64, 64, seed) for seed in range(3)]
    probs = tiny_parser._infer_probs(images)
    labels = tiny_parser._infer(images)
    for image_probs, image_labels in zip(probs, labels):
        assert image_probs.shape == (19, 64, 64)
        assert image_probs.dtype == np.float32
        np.testing.assert_allclose(image_probs.sum(0), 1, atol=1e-5)
        np.testing.assert_array_equal(image_probs.argmax(0), image_labels)


def test_return_probs_gives_the_pasted_probabilities(tiny_parser):
    img = smooth_image(90, 120, seed=3)
    faces = [(10, 10, 50, 50), (60, 30, 100, 70)]

    labels, used, probs = tiny_parser.parse_wild(img, faces=faces,
                                                 return_probs=True)

    assert probs.shape == (19, 90, 120) and probs.dtype == np.float32
    np.testing.assert_array_equal(probs.argmax(0), labels)
    np.testing.assert_allclose(probs.sum(0), 1, atol=1e-4)
    assert labels.any()
    # parse_crops + paste_face_probs is the same pipeline, one image.
    crop_results = tiny_parser.parse_crops(img, used)
    assert [p.shape for p, _ in crop_results] == [(19, 64, 64)] * 2
    np.testing.assert_allclose(paste_face_probs(img.shape, crop_results),
                               probs, atol=1e-6)
    # Without return_probs: the same labels, two outputs.
    alone_labels, _ = tiny_parser.parse_wild(img, faces=faces)
    np.testing.assert_array_equal(alone_labels, labels)
    # A list input gives lists.
    many = tiny_parser.parse_wild([img, img], faces=[faces, []],
                                  return_probs=True)
    assert [len(output) for output in many] == [2, 2, 2]
    np.testing.assert_array_equal(many[2][1].argmax(0), 0)


def test_parse_wild_finds_the_astronaut_with_the_default_detector(
        tiny_checkpoint):
    from skimage import data
    img = np.ascontiguousarray(data.astronaut()[..., ::-1])
    parser = FaceParser(TINY_CONFIG, tiny_checkpoint, alignment='celeba_hq')

    labels, faces = parser.parse_wild(img)

    assert len(faces) == 1 and faces[0].landmarks is not None
    x1, y1, x2, y2 = (int(v) for v in faces[0].box)
    assert labels[y1:y2, x1:x2].any()
    # CelebA-HQ's crop spans about 4.2 eye distances; nothing beyond it.
    eyes = faces[0].landmarks[:2]
    reach = 3 * np.hypot(*(eyes[1] - eyes[0]))
    ys, xs = np.nonzero(labels)
    centre = eyes.mean(0)
    assert np.abs(xs - centre[0]).max() < reach
    assert np.abs(ys - centre[1]).max() < reach
