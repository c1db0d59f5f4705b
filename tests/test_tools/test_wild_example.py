"""tools/wild_example.py, in process."""
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest
from face_api_helpers import TINY_CONFIG

TOOL = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                'tools', 'wild_example.py')


def run_script(monkeypatch, *args):
    monkeypatch.setattr(sys, 'argv', [TOOL, *map(str, args)])
    runpy.run_path(TOOL, run_name='__main__')


def test_figure_shows_the_image_and_the_pasted_labels(monkeypatch, tmp_path):
    out = tmp_path / 'figure.png'
    run_script(monkeypatch, out, '--alignment', 'farl')

    figure = cv2.imread(str(out)).astype(float)
    assert figure.shape == (300, 2 * 560 + 8, 3)
    image, overlay = figure[:, :560], figure[:, 568:]
    # overlay = 0.4 * image + 0.6 * colour; background's colour is black.
    colour = (overlay - 0.4 * image) / 0.6
    tool = runpy.run_path(TOOL)
    for _, _, (cx, cy) in tool['PLACEMENTS']:
        assert colour[cy - 3:cy + 4, cx - 3:cx + 4].max() > 100  # a face
    assert np.abs(colour[:20, 180:240]).max() < 30  # background
    # The five points (yellow) are drawn on the image panel.
    blue, green, red = image.transpose(2, 0, 1)
    yellow = (blue < 80) & (green > 170) & (red > 170)
    assert yellow.sum() >= 15 * 9


def test_config_needs_a_checkpoint(monkeypatch, tmp_path):
    with pytest.raises(SystemExit, match='both --config and --checkpoint'):
        run_script(monkeypatch, tmp_path / 'x.png', '--config', TINY_CONFIG)
    assert not (tmp_path / 'x.png').exists()


def test_a_model_can_parse_the_crops(monkeypatch, tmp_path, tiny_checkpoint):
    out = tmp_path / 'model.png'
    run_script(monkeypatch, out, '--config', TINY_CONFIG, '--checkpoint',
               tiny_checkpoint)
    assert cv2.imread(str(out)).shape == (300, 1128, 3)
