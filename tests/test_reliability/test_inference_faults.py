"""Fault injection for inference, export and profiling (issue 13).

Each bad input must end with one line that names the file or option and
what is wrong, no traceback, and nothing half-written; large inputs must
not hold full-resolution logits. Tools run in process (``runpy``) where
that shows the same, and in a subprocess where the environment matters
(OpenCV's pixel limit) or to see the whole stderr of a real run.
"""
import errno
import json
import os
import os.path as osp
import runpy
import sys

import cv2
import mmcv
import numpy as np
import pytest
from face_api_helpers import TINY_CONFIG, draw_face, smooth_image
from mmseg.apis import inference_segmentor

import mmseg_face.apis.banded_inference as banded_inference
import mmseg_face.utils.atomic_io as atomic_io
from mmseg_face.apis import FaceParser

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_script(monkeypatch, tool, *args):
    """Run ``tools/<tool>`` in process; return its exit status."""
    path = osp.join(REPO_ROOT, 'tools', tool)
    monkeypatch.setattr(sys, 'argv', [path, *map(str, args)])
    try:
        runpy.run_path(path, run_name='__main__')
    except SystemExit as exit_:
        return exit_.code
    return 0


def error_line(stderr):
    """The single ``error:`` line of ``stderr`` (argparse's or ours)."""
    assert 'Traceback' not in stderr, stderr
    lines = [line for line in stderr.splitlines() if 'error:' in line]
    assert len(lines) == 1, stderr
    return lines[0]


def files_under(folder):
    return sorted(
        osp.relpath(osp.join(root, name), folder)
        for root, _, names in os.walk(folder) for name in names)


@pytest.fixture(scope='module')
def parser(tiny_checkpoint):
    return FaceParser(TINY_CONFIG, tiny_checkpoint, device='cpu')


@pytest.fixture
def faces(tmp_path):
    """A folder of three small face images."""
    src = tmp_path / 'faces'
    src.mkdir()
    for index in range(3):
        cv2.imwrite(str(src / f'f{index}.png'), smooth_image(40, 48, index))
    return src


# ---- bounded memory on large inputs ---------------------------------------


def _aug_test_parser(checkpoint):
    """The tiny model as a FaceEncoderDecoder with L/R pairs, tested on two
    scales with horizontal flips: four views averaged by aug_test."""
    cfg = mmcv.Config.fromfile(TINY_CONFIG)
    cfg.model.type = 'FaceEncoderDecoder'
    cfg.model.flip_pairs = [(4, 5), (6, 7), (8, 9)]
    cfg.data.test.pipeline[1].img_ratios = [0.75, 1.0]
    cfg.data.test.pipeline[1].flip = True
    return FaceParser(cfg, checkpoint, device='cpu')


@pytest.mark.parametrize('views', ['single', 'aug_test'])
def test_banded_labels_equal_the_full_resolution_path(parser, views,
                                                      tiny_checkpoint):
    model = parser.model if views == 'single' else \
        _aug_test_parser(tiny_checkpoint).model
    imgs = [smooth_image(150, 190, seed) for seed in (1, 2)]
    full = inference_segmentor(model, imgs)

    banded = banded_inference.predict_labels(model, imgs, band_pixels=2000)

    for expected, labels in zip(full, banded):
        assert len(np.unique(expected)) >= 3
        np.testing.assert_array_equal(labels, expected)


def test_parse_never_resizes_more_than_a_band(monkeypatch, parser):
    bands = []
    original = banded_inference.resize_rows

    def recording(logits, size, start, stop, align_corners):
        band = original(logits, size, start, stop, align_corners)
        bands.append(tuple(band.shape))
        return band

    monkeypatch.setattr(banded_inference, 'resize_rows', recording)
    monkeypatch.setattr(banded_inference, 'BAND_PIXELS', 4096)
    img = smooth_image(300, 256, seed=4)

    labels = parser.parse(img)

    assert labels.shape == (300, 256)
    assert sum(shape[2] for shape in bands) == 300
    assert all(shape[0] * shape[2] * shape[3] <= 4096 for shape in bands)
    monkeypatch.setattr(banded_inference, 'BAND_PIXELS', 1 << 20)
    np.testing.assert_array_equal(labels, parser.parse(img))


def test_folder_goes_on_after_an_image_runs_out_of_memory(
        monkeypatch, capsys, tmp_path, faces, tiny_checkpoint):
    cv2.imwrite(str(faces / 'huge.png'), smooth_image(90, 90, 7))
    original = FaceParser._infer

    def infer(self, images):
        if any(img.shape[0] == 90 for img in images):
            raise MemoryError
        return original(self, images)

    monkeypatch.setattr(FaceParser, '_infer', infer)
    out = tmp_path / 'out'

    status = run_script(monkeypatch, 'parse_faces.py', TINY_CONFIG,
                        tiny_checkpoint, faces, '--out', out)

    stdout = capsys.readouterr().out
    assert status == 1
    assert 'parsed 3 image(s), 1 failed' in stdout
    assert 'FAILED huge.png: out of memory parsing this 90x90 image' in stdout
    assert files_under(out / 'labels') == ['f0.png', 'f1.png', 'f2.png']


# ---- oversized images ------------------------------------------------------


def test_oversized_png_is_named_and_the_folder_goes_on(
        run_tool, tmp_path, tiny_checkpoint):
    src = tmp_path / 'src'
    src.mkdir()
    cv2.imwrite(str(src / 'big.png'), smooth_image(60, 80, 1))
    cv2.imwrite(str(src / 'small.png'), smooth_image(30, 40, 2))
    out = tmp_path / 'out'

    # 2000 pixels: the 30x40 image fits, the 60x80 one does not.
    result = run_tool(['python', 'tools/parse_faces.py', TINY_CONFIG,
                       tiny_checkpoint, src, '--out', out],
                      OPENCV_IO_MAX_IMAGE_PIXELS='2000')

    assert result.returncode == 1, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    assert 'parsed 1 image(s), 1 failed' in result.stdout
    failed = [line for line in result.stdout.splitlines()
              if line.startswith('FAILED')]
    assert failed == [
        f'FAILED {src / "big.png"}: 80x60 image (4,800 pixels) exceeds the '
        f'decoding limit of 2,000 pixels (raise it with the environment '
        f'variable OPENCV_IO_MAX_IMAGE_PIXELS)'
    ]
    assert files_under(out / 'labels') == ['small.png']
    single = run_tool(['python', 'tools/parse_faces.py', TINY_CONFIG,
                       tiny_checkpoint, src / 'big.png', '--out',
                       tmp_path / 'single'],
                      OPENCV_IO_MAX_IMAGE_PIXELS='2000')
    assert single.returncode == 1 and 'Traceback' not in single.stderr
    assert failed[0] in single.stdout.splitlines()
    assert files_under(tmp_path / 'single') == []


def test_image_beyond_pillows_header_limit_is_still_sized(monkeypatch,
                                                          tmp_path):
    from PIL import Image

    import mmseg_face.apis.face_parser as face_parser_module
    path = tmp_path / 'bomb.png'
    cv2.imwrite(str(path), smooth_image(60, 80, 1))
    # Pillow refuses the header above twice its limit; OpenCV refused the
    # decode (simulated: its limit is read once, when it loads).
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)
    monkeypatch.setattr(face_parser_module.mmcv, 'imread', lambda _: None)
    monkeypatch.setenv('OPENCV_IO_MAX_IMAGE_PIXELS', '3000')

    with pytest.raises(face_parser_module.ImageReadError) as error:
        face_parser_module.load_bgr_image(path)

    assert str(error.value) == (
        f'{path}: image of 4,800 pixels exceeds the decoding limit of 3,000 '
        f'pixels (raise it with the environment variable '
        f'OPENCV_IO_MAX_IMAGE_PIXELS)')


# ---- command-line arguments, checked before any work ----------------------


def test_malformed_boxes_json_is_one_line_before_the_model_loads(
        run_tool, tmp_path, faces, tiny_checkpoint):
    boxes = tmp_path / 'boxes.json'
    boxes.write_text('{"f0.png": [[1, 2, 30, 40]')
    out = tmp_path / 'out'

    result = run_tool(['python', 'tools/parse_faces.py', TINY_CONFIG,
                       tiny_checkpoint, faces, '--out', out, '--boxes',
                       boxes])

    assert result.returncode == 1
    line = error_line(result.stderr)
    assert f'{boxes}: not valid JSON' in line and 'line 1' in line
    assert not out.exists()


@pytest.mark.parametrize('entry, problem', [
    ([[30, 10, 10, 40]], 'must satisfy x2 > x1'),
    ([[10, 10, 30, float('nan')]], 'non-finite'),
    ([[10, 10, float('inf'), 30]], 'non-finite'),
    ([[10, 10, 30]], 'four numbers'),
    ([['10', 10, 30, 40]], 'four numbers'),
    ([10, 10, 30, 40], 'four numbers'),
    (5, 'must be a list of boxes'),
])
def test_invalid_boxes_name_the_file_and_entry(monkeypatch, capsys, tmp_path,
                                               faces, tiny_checkpoint, entry,
                                               problem):
    boxes = tmp_path / 'boxes.json'
    boxes.write_text(json.dumps({'f0.png': entry}))  # NaN/Infinity literals
    out = tmp_path / 'out'

    status = run_script(monkeypatch, 'parse_faces.py', TINY_CONFIG,
                        tiny_checkpoint, faces, '--out', out, '--boxes', boxes)

    assert status == 1
    line = error_line(capsys.readouterr().err)
    assert str(boxes) in line and "'f0.png'" in line and problem in line
    assert not out.exists()


@pytest.mark.parametrize('box', [[100, 5, 140, 30], [-50, -50, -1, -1]])
def test_boxes_outside_the_image_fail_that_image(monkeypatch, capsys,
                                                 tmp_path, tiny_checkpoint,
                                                 box):
    src = tmp_path / 'src'
    src.mkdir()
    img = np.full((60, 80, 3), 90, np.uint8)
    img[10:50, 20:60] = draw_face(40)
    cv2.imwrite(str(src / 'inside.png'), img)
    cv2.imwrite(str(src / 'outside.png'), img)
    boxes = tmp_path / 'boxes.json'
    boxes.write_text(json.dumps({'inside.png': [[20, 10, 60, 50]],
                                 'outside.png': [box]}))
    out = tmp_path / 'out'

    status = run_script(monkeypatch, 'parse_faces.py', TINY_CONFIG,
                        tiny_checkpoint, src, '--out', out, '--boxes', boxes)

    stdout = capsys.readouterr().out
    assert status == 1
    assert (f'FAILED outside.png: face box {[float(v) for v in box]} lies '
            f'entirely outside the 80x60 image') in stdout
    assert files_under(out / 'labels') == ['inside.png']


def test_unknown_mask_class_is_one_line_and_nothing_is_written(
        monkeypatch, capsys, tmp_path, faces, tiny_checkpoint):
    out = tmp_path / 'out'

    status = run_script(monkeypatch, 'parse_faces.py', TINY_CONFIG,
                        tiny_checkpoint, faces, '--out', out, '--masks',
                        'skin,beard')

    assert status == 1
    line = error_line(capsys.readouterr().err)
    assert 'masks' in line and "['beard']" in line and "'skin'" in line
    assert not out.exists()


@pytest.mark.parametrize('option, value, problem', [
    ('--batch-size', '0', 'must be an integer >= 1, got 0'),
    ('--batch-size', '-2', 'must be an integer >= 1, got -2'),
    ('--batch-size', 'two', "must be an integer >= 1, got 'two'"),
    ('--opacity', '1.5', "must be a number in (0, 1], got '1.5'"),
    ('--opacity', '0', "must be a number in (0, 1], got '0'"),
    ('--opacity', 'nan', "must be a number in (0, 1], got 'nan'"),
    ('--margin', '-0.1', "must be a number in [0, inf), got '-0.1'"),
])
def test_bad_numbers_stop_parse_faces_at_once(monkeypatch, capsys, tmp_path,
                                              faces, option, value, problem):
    out = tmp_path / 'out'

    status = run_script(monkeypatch, 'parse_faces.py', 'no_config.py',
                        'no.pth', faces, '--out', out, option, value)

    assert status == 2
    line = error_line(capsys.readouterr().err)
    assert f'argument {option}: {problem}' in line
    assert not out.exists()


@pytest.mark.parametrize('tool, args, option', [
    ('get_flops.py', [TINY_CONFIG, '--shape', '0', '64'], '--shape'),
    ('pytorch2onnx.py', [TINY_CONFIG, '--shape', '-64'], '--shape'),
    ('benchmark.py', [TINY_CONFIG, '--shape', '64', '0'], '--shape'),
    ('benchmark.py', [TINY_CONFIG, '--batch-size', '0'], '--batch-size'),
    ('benchmark.py', [TINY_CONFIG, '--repeats', '0'], '--repeats'),
])
def test_sizes_below_one_are_refused_by_the_profiling_tools(
        monkeypatch, capsys, tool, args, option):
    status = run_script(monkeypatch, tool, *args)

    assert status == 2
    line = error_line(capsys.readouterr().err)
    assert f'argument {option}: must be an integer >= ' in line


def test_unsupported_onnx_opset_names_the_range(run_tool, monkeypatch,
                                                capsys, tmp_path):
    output = tmp_path / 'model.onnx'

    result = run_tool(['python', 'tools/pytorch2onnx.py', TINY_CONFIG,
                       '--shape', '32', '--opset-version', '99',
                       '--output-file', output])
    status = run_script(monkeypatch, 'pytorch2onnx.py', TINY_CONFIG,
                        '--shape', '32', '--opset-version', '9',
                        '--output-file', output)

    assert result.returncode == 1
    assert 'opset 99 is not supported: use 11 to ' in error_line(
        result.stderr)
    assert status == 1
    assert 'opset 9 is not supported: use 11 to ' in error_line(
        capsys.readouterr().err)
    assert files_under(tmp_path) == []


def test_export_into_a_missing_folder_is_refused_first(monkeypatch, capsys,
                                                       tmp_path):
    output = tmp_path / 'missing' / 'model.onnx'

    status = run_script(monkeypatch, 'pytorch2onnx.py', TINY_CONFIG,
                        '--shape', '32', '--output-file', output)

    assert status == 1
    line = error_line(capsys.readouterr().err)
    assert f'folder {output.parent} of the output file' in line


# ---- output folder and disk ------------------------------------------------


def test_output_folder_that_cannot_be_created(monkeypatch, capsys, tmp_path,
                                              faces, tiny_checkpoint):
    blocker = tmp_path / 'blocker'
    blocker.write_text('a file where the output folder should go')

    status = run_script(monkeypatch, 'parse_faces.py', TINY_CONFIG,
                        tiny_checkpoint, faces, '--out', blocker / 'out')

    assert status == 1
    line = error_line(capsys.readouterr().err)
    assert f'cannot create output folder {blocker / "out"}' in line
    assert blocker.read_text() == 'a file where the output folder should go'


def test_read_only_output_folder(monkeypatch, capsys, tmp_path, faces,
                                 tiny_checkpoint):
    out = tmp_path / 'out'
    out.mkdir()
    # Root ignores permission bits, so the refusal is simulated.
    real_access = os.access
    monkeypatch.setattr(
        os, 'access', lambda path, mode, **kwargs: False
        if str(path).startswith(str(out)) else real_access(
            path, mode, **kwargs))

    status = run_script(monkeypatch, 'parse_faces.py', TINY_CONFIG,
                        tiny_checkpoint, faces, '--out', out)

    assert status == 1
    line = error_line(capsys.readouterr().err)
    assert f'output folder {out} is not writable' in line


def test_full_disk_stops_with_one_line_and_nothing_half_written(
        monkeypatch, capsys, tmp_path, faces, tiny_checkpoint):
    writes = []
    real_open = open

    class FillingDisk:
        """A file that takes half of the second image's overlay, then
        reports a full disk."""

        def __init__(self, path):
            self.file = real_open(path, 'wb')
            self.path = path

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

        def write(self, data):
            writes.append(self.path)
            if len(writes) == 4:  # labels/f0, overlays/f0, labels/f1, ...
                self.file.write(data[:len(data) // 2])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.file.write(data)

    monkeypatch.setattr(atomic_io, 'open',
                        lambda path, mode: FillingDisk(path), raising=False)
    out = tmp_path / 'out'

    status = run_script(monkeypatch, 'parse_faces.py', TINY_CONFIG,
                        tiny_checkpoint, faces, '--out', out,
                        '--batch-size', '1')

    assert status == 1
    line = error_line(capsys.readouterr().err)
    assert f'cannot write {out / "overlays" / "f1.png"}: No space left on ' \
        'device (nothing of f1 written; 1 image(s) written before)' in line
    assert files_under(out) == ['labels/f0.png', 'overlays/f0.png']
    label = cv2.imread(str(out / 'labels/f0.png'), cv2.IMREAD_UNCHANGED)
    assert label.shape == (40, 48)
    assert cv2.imread(str(out / 'overlays/f0.png')).shape == (40, 48, 3)


def test_temporaries_of_killed_runs_are_removed_and_live_ones_kept(
        monkeypatch, tmp_path, faces, tiny_checkpoint):
    dead_pid = 2 ** 22 + 1  # above Linux's largest pid_max: never running
    labels = tmp_path / 'out' / 'labels'
    labels.mkdir(parents=True)
    killed = labels / f'.f0.png.{dead_pid}.tmp'
    killed.write_bytes(b'half a PNG')
    running = labels / f'.f0.png.{os.getppid()}.tmp'
    running.write_bytes(b'another run is writing this')

    status = run_script(monkeypatch, 'parse_faces.py', TINY_CONFIG,
                        tiny_checkpoint, faces, '--out', tmp_path / 'out')

    assert status == 0
    assert not killed.exists()
    assert running.read_bytes() == b'another run is writing this'
    assert files_under(labels) == [running.name, 'f0.png', 'f1.png',
                                   'f2.png']
