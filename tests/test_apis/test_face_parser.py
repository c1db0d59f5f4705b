import cv2
import numpy as np
import pytest

import mmseg_face.apis.face_parser as face_parser_module
from mmseg_face.apis import FaceParser
from mmseg_face.datasets import CelebAMaskHQDataset

from conftest import TINY_CONFIG, save_tiny_checkpoint


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


def test_path_array_and_list_give_the_same_labels(tiny_parser, smooth_image,
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
def test_labels_have_the_input_size(tiny_parser, smooth_image, height, width):
    labels = tiny_parser.parse(smooth_image(height, width))
    assert labels.shape == (height, width)
    assert labels.max() < len(tiny_parser.classes)


def test_batch_of_four_is_one_forward_equal_to_single_calls(
        tiny_parser, smooth_image, count_forwards):
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
        tiny_parser, smooth_image, count_forwards):
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


def test_syncbn_is_converted_for_cpu_inference(tiny_parser):
    kinds = {type(m).__name__ for m in tiny_parser.model.modules()}
    assert 'SyncBatchNorm' not in kinds
    assert 'BatchNorm2d' in kinds


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


def test_overlay_and_masks_helpers(tiny_parser, smooth_image):
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
