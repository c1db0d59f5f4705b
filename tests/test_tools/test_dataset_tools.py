"""The dataset commands of the README, run as a user would on sample releases."""
import os.path as osp

import cv2
import numpy as np

from mmseg_face.datasets import HelenDataset
from mmseg_face.datasets.pipelines import label_to_edge


def test_helen_release_to_edges(run_tool, tmp_path):
    release, data_root = tmp_path / 'helen_release', tmp_path / 'helen'
    result = run_tool(['python', 'tools/make_sample_faces.py', 'helen',
                       release, '--num-images', '10', '--size', '48'])
    assert result.returncode == 0, result.stderr[-3000:]
    result = run_tool(['python', 'tools/convert_datasets/helen.py', release,
                       '-o', data_root])
    assert result.returncode == 0, result.stderr[-3000:]
    names = {split: (data_root / f'{split}.txt').read_text().split()
             for split in ('train', 'val', 'test')}
    assert sum(map(len, names.values())) == 10
    label = cv2.imread(str(data_root / 'labels' / f'{names["test"][0]}.png'),
                       cv2.IMREAD_UNCHANGED)
    assert label.dtype == np.uint8 and label.max() < len(HelenDataset.CLASSES)

    result = run_tool(['python', 'tools/generate_edges.py', data_root,
                       '--mode', 'eagr'])
    assert result.returncode == 0, result.stderr[-3000:]
    for split_names in names.values():
        for name in split_names:
            edge = cv2.imread(osp.join(data_root, 'edges', f'{name}.png'),
                              cv2.IMREAD_UNCHANGED)
            expected = label_to_edge(
                cv2.imread(osp.join(data_root, 'labels', f'{name}.png'),
                           cv2.IMREAD_UNCHANGED), mode='eagr')
            assert np.array_equal(edge, expected), name


def test_sample_release_options_are_not_silently_dropped(run_tool, tmp_path):
    result = run_tool(['python', 'tools/make_sample_faces.py', 'lapa',
                       tmp_path, '--convert', '--start-index', '5'])
    assert result.returncode == 2
    assert '--start-index shape the release only' in result.stderr
    assert not any(tmp_path.iterdir())
