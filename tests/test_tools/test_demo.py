"""A shortened `make demo` (tools/demo.py) end to end, checking every output."""
import json
import os.path as osp
import re

import cv2
import numpy as np

from mmseg_face.datasets import CelebAMaskHQDataset


def test_short_demo_writes_every_promised_file(run_tool, tmp_path):
    work_dir = tmp_path / 'demo'
    size = 64
    result = run_tool([
        'python', 'tools/demo.py', '--work-dir', work_dir, '--num-images',
        '30', '--size', size, '--iters', '6', '--eval-interval', '3',
        '--num-overlays', '2'
    ], timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    tables = (work_dir / 'metrics.txt').read_text()
    assert 'per class results:' in tables and 'per class F1:' in tables
    for name in CelebAMaskHQDataset.CLASSES:
        assert re.search(rf'\|\s+{name}\s+\|', tables), name
    metrics = json.loads((work_dir / 'metrics.json').read_text())
    for key in ('mIoU', 'mF1', 'aAcc', 'IoU.skin', 'F1.hair'):
        assert 0 <= metrics[key] <= 1, key
    miou_row = re.search(r'\|\s+([\d.]+)\s+\|\s+([\d.]+)\s+\|\s+([\d.]+)\s+\|',
                         tables.split('Summary:')[1])
    assert abs(float(miou_row.group(2)) - 100 * metrics['mIoU']) < 0.01

    flops = (work_dir / 'flops.txt').read_text()
    assert 'Parameters: 11,807,784' in flops and 'GMACs' in flops

    curves = cv2.imread(str(work_dir / 'training_curves.png'))
    assert curves is not None and curves.shape[0] > 100 and curves.shape[1] > 200

    with open(osp.join(work_dir, 'data', 'celebamask_hq', 'test.txt')) as f:
        held_out = f.read().split()[:2]
    for name in held_out:
        overlay = cv2.imread(str(work_dir / 'overlays' / f'{name}.png'))
        # input | ground truth | prediction, each at the label size
        assert overlay.shape == (size, 3 * size, 3), name
        truth = overlay[:, size:2 * size].astype(int)
        image = overlay[:, :size].astype(int)
        assert np.abs(truth - image).mean() > 5  # the labels were painted
    assert 'demo finished' in result.stdout
