"""tools/parse_faces.py end to end, in process (no re-import of torch)."""
import cv2
import numpy as np
import pytest
import torch
from face_api_helpers import TINY_CONFIG, draw_face
from face_api_helpers import run_parse_faces as run_script
from face_api_helpers import smooth_image


@pytest.fixture
def folder(tmp_path):
    """Three good images (two sizes, two formats), one corrupt, one text."""
    src = tmp_path / 'faces'
    src.mkdir()
    good = {'a': smooth_image(48, 64, 1), 'b': smooth_image(40, 40, 2),
            'c': draw_face(56)}
    cv2.imwrite(str(src / 'a.png'), good['a'])
    cv2.imwrite(str(src / 'b.png'), good['b'])
    cv2.imwrite(str(src / 'c.bmp'), good['c'])
    (src / 'corrupt.jpg').write_bytes(b'\xff\xd8\xff garbage, not a jpeg')
    (src / 'notes.txt').write_text('not an image')
    return src, good


def test_folder_with_a_corrupt_file(monkeypatch, capsys, tmp_path, folder,
                                    tiny_checkpoint):
    src, good = folder
    out = tmp_path / 'out'

    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint, src,
                        '--out', out, '--masks', 'skin,hair', '--batch-size',
                        '2')

    stdout = capsys.readouterr().out
    assert status == 1
    assert 'parsed 3 image(s), 1 failed' in stdout
    assert 'FAILED' in stdout and 'corrupt.jpg' in stdout
    assert 'notes.txt' in stdout
    for name, img in good.items():
        label = cv2.imread(str(out / 'labels' / f'{name}.png'),
                           cv2.IMREAD_UNCHANGED)
        assert label.dtype == np.uint8 and label.shape == img.shape[:2]
        assert label.max() < 19
        overlay = cv2.imread(str(out / 'overlays' / f'{name}.png'))
        assert overlay.shape == img.shape
        for class_id, class_name in ((1, 'skin'), (13, 'hair')):
            mask = cv2.imread(str(out / 'masks' / class_name / f'{name}.png'),
                              cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(mask == 255, label == class_id)
            assert set(np.unique(mask)) <= {0, 255}
    assert not (out / 'labels' / 'corrupt.png').exists()


def test_overlay_png_colours_follow_the_celebamask_palette(
        monkeypatch, tmp_path, tiny_checkpoint):
    """Screenshot-style check: read the written overlay back and compare
    every pixel with the official palette colour of its label."""
    palette_rgb = np.array(
        [[0, 0, 0], [204, 0, 0], [76, 153, 0], [204, 204, 0], [51, 51, 255],
         [204, 0, 204], [0, 255, 255], [255, 204, 204], [102, 51, 0],
         [255, 0, 0], [102, 204, 0], [255, 255, 0], [0, 0, 153],
         [0, 0, 204], [255, 51, 153], [0, 204, 204], [0, 51, 0],
         [255, 153, 51], [0, 204, 0]], np.float32)
    img = smooth_image(60, 80, seed=5)
    cv2.imwrite(str(tmp_path / 'shot.png'), img)

    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint,
                        tmp_path / 'shot.png', '--out', tmp_path / 'out',
                        '--opacity', '0.6')

    assert status == 0
    label = cv2.imread(str(tmp_path / 'out/labels/shot.png'),
                       cv2.IMREAD_UNCHANGED)
    seen_rgb = cv2.cvtColor(
        cv2.imread(str(tmp_path / 'out/overlays/shot.png')),
        cv2.COLOR_BGR2RGB).astype(np.float32)
    assert len(np.unique(label)) >= 3
    image_rgb = img[..., ::-1].astype(np.float32)
    expected = 0.4 * image_rgb + 0.6 * palette_rgb[label]
    assert np.abs(seen_rgb - expected).max() <= 0.51
    # Recover the painted colour from the screenshot: it is the palette
    # entry of the label, in RGB order (a BGR mix-up swaps skin to blue).
    painted = (seen_rgb - 0.4 * image_rgb) / 0.6
    for class_id in np.unique(label):
        colour = painted[label == class_id].mean(axis=0)
        nearest = np.abs(palette_rgb - colour).sum(axis=1).argmin()
        assert nearest == class_id


def test_no_optimize_runs_the_model_as_built_with_the_same_labels(
        monkeypatch, tmp_path, tiny_checkpoint):
    import mmseg_face.apis as apis
    built = []
    original = apis.FaceParser

    def recording(*args, **kwargs):
        parser = original(*args, **kwargs)
        built.append(parser)
        return parser

    monkeypatch.setattr(apis, 'FaceParser', recording)
    cv2.imwrite(str(tmp_path / 'face.png'), smooth_image(48, 64, seed=3))
    labels = {}
    for name, flags in (('fast', []), ('plain', ['--no-optimize'])):
        status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint,
                            tmp_path / 'face.png', '--out', tmp_path / name,
                            *flags)
        assert status == 0
        labels[name] = cv2.imread(str(tmp_path / name / 'labels/face.png'),
                                  cv2.IMREAD_UNCHANGED)

    def has_batch_norm(parser):
        return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                   for m in parser.model.modules())

    assert [has_batch_norm(parser) for parser in built] == [False, True]
    assert len(np.unique(labels['plain'])) >= 2
    assert (labels['fast'] == labels['plain']).mean() >= 0.999


def test_video_frames_are_parsed(monkeypatch, capsys, tmp_path,
                                 tiny_checkpoint):
    video = str(tmp_path / 'clip.avi')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             (48, 32))
    for seed in range(3):
        writer.write(smooth_image(32, 48, seed))
    writer.release()

    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint, video,
                        '--out', tmp_path / 'out')

    assert status == 0
    assert 'parsed 3 image(s), 0 failed' in capsys.readouterr().out
    for index in range(3):
        label = cv2.imread(str(tmp_path / f'out/labels/clip_{index:06d}.png'),
                           cv2.IMREAD_UNCHANGED)
        assert label.shape == (32, 48)


def test_detect_faces_option_with_the_default_detector(
        monkeypatch, capsys, tmp_path, tiny_checkpoint):
    img = np.full((90, 120, 3), 128, np.uint8)  # no face anywhere
    cv2.imwrite(str(tmp_path / 'empty.png'), img)

    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint,
                        tmp_path / 'empty.png', '--out', tmp_path / 'out',
                        '--detect-faces')

    assert status == 0
    assert 'images without a face: 1' in capsys.readouterr().out
    label = cv2.imread(str(tmp_path / 'out/labels/empty.png'),
                       cv2.IMREAD_UNCHANGED)
    assert label.shape == (90, 120) and not label.any()


def test_unknown_mask_class_is_an_error(monkeypatch, capsys, tmp_path,
                                        tiny_checkpoint):
    cv2.imwrite(str(tmp_path / 'x.png'), smooth_image(20, 20))
    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint,
                        tmp_path / 'x.png', '--out', tmp_path / 'out',
                        '--masks', 'beard')
    assert status == 1
    assert "unknown class name(s) ['beard']" in capsys.readouterr().err


def test_boxes_file_skips_detection(monkeypatch, capsys, tmp_path,
                                    tiny_checkpoint):
    src = tmp_path / 'src'
    src.mkdir()
    img = np.full((80, 120, 3), 90, np.uint8)
    img[10:50, 60:100] = draw_face(40)
    cv2.imwrite(str(src / 'one.png'), img)
    cv2.imwrite(str(src / 'unlisted.png'), img)
    boxes = tmp_path / 'boxes.json'
    boxes.write_text('{"one.png": [[60, 10, 100, 50]]}')

    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint, src,
                        '--out', tmp_path / 'out', '--boxes', boxes)

    stdout = capsys.readouterr().out
    assert status == 1
    assert 'FAILED unlisted.png: no entry in the boxes file' in stdout
    assert 'faces parsed: 1' in stdout
    label = cv2.imread(str(tmp_path / 'out/labels/one.png'),
                       cv2.IMREAD_UNCHANGED)
    painted = np.argwhere(label > 0)
    assert len(painted) > 0
    # Labels only within the 0.5-margin crop around the given box.
    assert painted[:, 0].min() >= 0 and painted[:, 0].max() <= 70
    assert painted[:, 1].min() >= 40 and painted[:, 1].max() <= 120
    assert not (tmp_path / 'out/labels/unlisted.png').exists()


@pytest.mark.parametrize('detector', ['mtcnn', 'haar'])
def test_detector_and_alignment_options(monkeypatch, capsys, tmp_path,
                                        tiny_checkpoint, detector):
    from skimage import data
    cv2.imwrite(str(tmp_path / 'astronaut.png'), data.astronaut()[..., ::-1])

    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint,
                        tmp_path / 'astronaut.png', '--out', tmp_path / 'out',
                        '--detect-faces', '--detector', detector,
                        '--alignment', 'celeba_hq')

    assert status == 0
    assert 'faces parsed: 1; images without a face: 0' in \
        capsys.readouterr().out
    label = cv2.imread(str(tmp_path / 'out/labels/astronaut.png'),
                       cv2.IMREAD_UNCHANGED)
    assert label.shape == (512, 512) and label[60:180, 170:280].any()
    assert not label[400:].any()  # the suit, far below the face crop


def test_unknown_alignment_is_refused_before_any_work(monkeypatch, capsys,
                                                      tmp_path,
                                                      tiny_checkpoint):
    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint,
                        tmp_path / 'x.png', '--out', tmp_path / 'out',
                        '--alignment', 'ffhq')
    assert status == 2
    assert "--alignment: invalid choice: 'ffhq'" in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()
