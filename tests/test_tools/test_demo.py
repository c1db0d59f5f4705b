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
    # Training progress is shown while it runs, not only in the log file.
    assert re.search(r'iter 6/6  loss [\d.]+  eta', result.stdout)
    assert re.search(r'validation mIoU [\d.]+%', result.stdout)


TRAIN_LINE = ('2026-12-02 05:00:00,000 - mmseg - INFO - Iter [10/300]\t'
              'lr: 1.000e-02, eta: 0:05:10, time: 1.0312, data_time: 0.0121, '
              'memory: 0, decode.loss_ce: 2.5012, decode.acc_seg: 40.1000, '
              'loss: 3.2500')
VAL_LINE = ('2026-12-02 05:01:00,000 - mmseg - INFO - Iter(val) [48]\t'
            'aAcc: 0.9012, mIoU: 0.7110, mAcc: 0.8000')


def test_training_progress_is_printed_while_the_step_runs(tmp_path, capsys):
    """The child prints a log line, then waits until the demo has shown it:
    a demo that only reads the output at the end would make it time out."""
    import runpy
    import sys
    demo = runpy.run_path(osp.join(osp.dirname(__file__), '..', '..',
                                   'tools', 'demo.py'))
    shown = tmp_path / 'shown'
    child = tmp_path / 'child.py'
    child.write_text(
        'import os, time\n'
        f'print({TRAIN_LINE!r})\n'
        f'print("some other line")\n'
        'for _ in range(200):\n'
        f'    if os.path.exists({str(shown)!r}): break\n'
        '    time.sleep(0.05)\n'
        'else: raise SystemExit(3)\n'
        f'print({VAL_LINE!r})\n')

    def progress(line):
        text = demo['training_progress'](line)
        if text is not None:
            shown.touch()
        return text

    log = tmp_path / 'train.log'
    output = demo['run_step']('train', [sys.executable, str(child)],
                              str(log), progress=progress)

    printed = capsys.readouterr().out.splitlines()
    assert printed[3:5] == ['    iter 10/300  loss 3.250  eta 0:05:10',
                            '    validation mIoU 71.1%']
    assert printed[5].startswith('    done in ')
    assert len(printed) == 6
    assert output == log.read_text()
    assert TRAIN_LINE in output and 'some other line' in output
