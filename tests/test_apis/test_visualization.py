import numpy as np
import pytest

from mmseg_face.apis import (class_masks, colorize_labels, render_overlay,
                             resolve_class_ids)

PALETTE = [[0, 0, 0], [204, 0, 0], [0, 0, 153]]  # RGB


def test_colorize_paints_palette_colours_in_bgr_order():
    labels = np.array([[0, 1], [2, 1]], np.uint8)
    color = colorize_labels(labels, PALETTE)
    assert color[0, 1].tolist() == [0, 0, 204]    # skin red, stored as BGR
    assert color[1, 0].tolist() == [153, 0, 0]
    assert color[0, 0].tolist() == [0, 0, 0]


def test_colorize_rejects_labels_without_colour():
    with pytest.raises(ValueError, match='label 3 has no colour'):
        colorize_labels(np.array([[3]], np.uint8), PALETTE)


def test_overlay_blends_by_opacity():
    img = np.full((1, 2, 3), 100, np.uint8)
    labels = np.array([[0, 1]], np.uint8)
    overlay = render_overlay(img, labels, PALETTE, opacity=0.25)
    # 0.75 * 100 + 0.25 * colour, per BGR channel.
    assert overlay[0, 0].tolist() == [75, 75, 75]
    assert overlay[0, 1].tolist() == [75, 75, 126]
    with pytest.raises(ValueError, match='differs'):
        render_overlay(img, np.zeros((2, 2), np.uint8), PALETTE)


def test_class_masks_by_name():
    labels = np.array([[0, 1, 2, 1]], np.uint8)
    masks = class_masks(labels, ('background', 'skin', 'hair'),
                        ['hair', 'skin'])
    assert list(masks) == ['hair', 'skin']
    assert masks['skin'].tolist() == [[0, 255, 0, 255]]
    assert masks['hair'].tolist() == [[0, 0, 255, 0]]
    with pytest.raises(ValueError, match="unknown class name"):
        resolve_class_ids(('background', 'skin'), ['nose'])
