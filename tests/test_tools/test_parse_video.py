"""tools/parse_faces.py on videos and webcams: outputs, fps, bad input."""
import os

import cv2
import numpy as np
import pytest
from face_api_helpers import TINY_CONFIG, draw_face
from face_api_helpers import label_flicker, moving_clip
from face_api_helpers import run_parse_faces as run_script

FRAMES = 12
HEIGHT, WIDTH = 72, 96
FACE = 40


def face_box(index):
    """Where the face of frame ``index`` of the clip is."""
    x, y = 8 + 3 * index, 12 + index
    return [x, y, x + FACE, y + FACE]


def write_clip(path, frames=FRAMES):
    """An MJPG clip of a face drifting right and down; returns the frames."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10,
                             (WIDTH, HEIGHT))
    images = []
    for index in range(frames):
        img = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
        x1, y1, x2, y2 = face_box(index)
        img[y1:y2, x1:x2] = draw_face(FACE, seed=1)
        writer.write(img)
        images.append(img)
    writer.release()
    return images


def count_frames(path):
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def leftovers(folder):
    """Temporary (hidden) files a run left behind."""
    return [name for _, _, files in os.walk(folder) for name in files
            if name.startswith('.')]


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / 'clip.avi'
    write_clip(path)
    return path


def test_video_gives_label_pngs_an_overlay_video_and_fps(
        monkeypatch, capsys, tmp_path, clip, tiny_checkpoint):
    out = tmp_path / 'out'

    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint, clip,
                        '--out', out, '--batch-size', '4')

    stdout = capsys.readouterr().out
    assert status == 0, stdout
    assert f'parsed {FRAMES} image(s), 0 failed' in stdout
    assert f'overlay video: {out / "clip_overlay.mp4"} ({FRAMES} frames in ' \
        in stdout
    fps = float(stdout.split(' s, ')[1].split(' frames/s')[0])
    assert fps > 0
    overlays = []
    for index in range(FRAMES):
        label = cv2.imread(str(out / f'labels/clip_{index:06d}.png'),
                           cv2.IMREAD_UNCHANGED)
        assert label.shape == (HEIGHT, WIDTH) and label.max() < 19
        overlays.append(cv2.imread(str(out /
                                       f'overlays/clip_{index:06d}.png')))
    # The video holds the overlays, in order (up to mp4v compression).
    capture = cv2.VideoCapture(str(out / 'clip_overlay.mp4'))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(10)
    seen = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        seen.append(frame)
    assert len(seen) == FRAMES
    for frame, overlay in zip(seen, overlays):
        assert frame.shape == overlay.shape
        assert np.abs(frame.astype(int) - overlay).mean() < 8
    assert np.abs(seen[0].astype(int) - overlays[-1]).mean() > \
        np.abs(seen[0].astype(int) - overlays[0]).mean()
    assert not leftovers(out)


def test_truncated_video_keeps_the_decoded_frames_and_fails(
        monkeypatch, capsys, tmp_path, clip, tiny_checkpoint):
    data = clip.read_bytes()
    clip.write_bytes(data[:len(data) // 2])
    out = tmp_path / 'out'

    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint, clip,
                        '--out', out)

    stdout = capsys.readouterr().out
    assert status == 1
    decoded = len(list((out / 'labels').iterdir()))
    assert 0 < decoded < FRAMES
    assert f'FAILED {clip}: decoded {decoded} of {FRAMES} frames' in stdout
    for index in range(decoded):
        label = cv2.imread(str(out / f'labels/clip_{index:06d}.png'),
                           cv2.IMREAD_UNCHANGED)
        assert label.shape == (HEIGHT, WIDTH)
    assert count_frames(out / 'clip_overlay.mp4') == decoded
    assert not leftovers(out)


def test_a_frame_that_fails_to_decode_is_reported_and_skipped(
        monkeypatch, capsys, tmp_path, clip, tiny_checkpoint):
    data = bytearray(clip.read_bytes())
    # MJPG stores each frame as a JPEG; blank out the fourth.
    starts = [i for i in range(len(data) - 3)
              if data[i:i + 3] == b'\xff\xd8\xff']
    assert len(starts) == FRAMES
    data[starts[3]:starts[4] - 8] = bytes(starts[4] - 8 - starts[3])
    clip.write_bytes(bytes(data))
    out = tmp_path / 'out'

    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint, clip,
                        '--out', out)

    stdout = capsys.readouterr().out
    assert status == 1
    assert 'FAILED clip_000003: frame cannot be decoded' in stdout
    assert f'parsed {FRAMES - 1} image(s), 1 failed' in stdout
    written = sorted(p.name for p in (out / 'labels').iterdir())
    assert written == [f'clip_{i:06d}.png' for i in range(FRAMES) if i != 3]
    assert count_frames(out / 'clip_overlay.mp4') == FRAMES - 1


@pytest.mark.parametrize('make_input, message', [
    (lambda tmp: tmp / 'broken.mp4', 'broken.mp4: cannot open video (not a '
     'video file, or a codec OpenCV lacks)'),
    (lambda tmp: '7', 'cannot open webcam 7 (no camera with that index?)'),
])
def test_a_video_or_webcam_that_cannot_be_opened_is_one_error_line(
        monkeypatch, capfd, tmp_path, tiny_checkpoint, make_input, message):
    source = make_input(tmp_path)
    if not isinstance(source, str):
        source.write_bytes(b'not a video at all' * 100)
    monkeypatch.chdir(tmp_path)  # no file named "7" here
    out = tmp_path / 'out'

    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint, source,
                        '--out', out)

    captured = capfd.readouterr()
    assert status == 1
    # OpenCV's own warnings are silenced: one line on stderr, no traceback.
    (line, ) = captured.err.strip().splitlines()
    assert line.startswith('tools/parse_faces.py: error: ')
    assert line.endswith(message)
    assert not out.exists()


def test_webcam_index_reads_the_camera_until_max_frames(
        monkeypatch, capsys, tmp_path, clip, tiny_checkpoint):
    import mmseg_face.apis.video_io as video_io
    opened = []
    real_capture = cv2.VideoCapture

    def camera(source):
        # Camera 0 is the clip: this machine has no camera.
        opened.append(source)
        return real_capture(str(clip) if source == 0 else source)

    monkeypatch.setattr(video_io.cv2, 'VideoCapture', camera)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / 'out'

    status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint, '0',
                        '--out', out, '--max-frames', '5')

    stdout = capsys.readouterr().out
    assert status == 0, stdout
    assert opened == [0]
    assert sorted(p.name for p in (out / 'labels').iterdir()) == [
        f'webcam0_{i:06d}.png' for i in range(5)
    ]
    assert count_frames(out / 'webcam0_overlay.mp4') == 5
    assert 'frames/s' in stdout


@pytest.mark.parametrize('option, value', [('--prob-smoothing', '1'),
                                           ('--landmark-smoothing', '-0.1'),
                                           ('--max-frames', '0')])
def test_bad_video_options_are_rejected(monkeypatch, capsys, tmp_path, clip,
                                        option, value):
    status = run_script(monkeypatch, TINY_CONFIG, 'none.pth', clip, '--out',
                        tmp_path / 'out', option, value)
    assert status == 2
    err = capsys.readouterr().err
    assert option in err.splitlines()[-1]
    assert not (tmp_path / 'out').exists()


class StopAtCall:
    """Wraps ``FaceParser.parse``: Ctrl-C arrives during its n-th call."""

    def __init__(self, parse, calls):
        self.parse, self.calls = parse, calls

    def __call__(self, images):
        self.calls -= 1
        if self.calls == 0:
            raise KeyboardInterrupt
        return self.parse(images)


@pytest.mark.parametrize('webcam', [True, False])
def test_ctrl_c_ends_a_webcam_run_cleanly_and_aborts_a_file_run(
        monkeypatch, tmp_path, clip, tiny_checkpoint, webcam):
    import mmseg_face.apis.video_io as video_io
    from mmseg_face.apis import FaceParser, parse_to_dir
    real_capture = cv2.VideoCapture
    monkeypatch.setattr(
        video_io.cv2, 'VideoCapture', lambda source: real_capture(
            str(clip) if source in (0, str(clip)) else source))
    parser = FaceParser(TINY_CONFIG, tiny_checkpoint, batch_size=1)
    monkeypatch.setattr(parser, 'parse', StopAtCall(parser.parse, 4))
    out = tmp_path / 'out'
    source = 0 if webcam else clip

    if webcam:
        summary = parse_to_dir(parser, source, out, show_progress=False)
        assert summary.written == [f'webcam0_{i:06d}' for i in range(3)]
        assert summary.video == str(out / 'webcam0_overlay.mp4')
        assert count_frames(summary.video) == 3
    else:
        with pytest.raises(KeyboardInterrupt):
            parse_to_dir(parser, source, out, show_progress=False)
        # Frames already written stay; the unfinished video does not.
        assert len(list((out / 'labels').iterdir())) == 3
        assert not (out / 'clip_overlay.mp4').exists()
    assert not leftovers(out)


def test_prob_smoothing_steadies_the_written_labels_of_a_noisy_video(
        monkeypatch, capsys, tmp_path, tiny_checkpoint):
    """A generated clip with sensor noise, written with cv2.VideoWriter and
    parsed by the tool with the true boxes, so the faces go through the
    tracker: with --prob-smoothing the label PNGs change less from frame to
    frame than without (measured), and only after the first frame, which
    has no past."""
    import json
    frames, faces = moving_clip(10, faces_per_frame=[0])
    video = tmp_path / 'noisy.avi'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'MJPG'), 10,
                             (frames[0].shape[1], frames[0].shape[0]))
    for frame in frames:
        writer.write(frame)
    writer.release()
    boxes = tmp_path / 'boxes.json'
    boxes.write_text(json.dumps({
        f'noisy_{i:06d}': [list(face.box) for face in frame_faces]
        for i, frame_faces in enumerate(faces)
    }))
    labels = {}
    for smoothing in ('0', '0.7'):
        out = tmp_path / f'out_{smoothing}'
        status = run_script(monkeypatch, TINY_CONFIG, tiny_checkpoint, video,
                            '--out', out, '--boxes', boxes,
                            '--prob-smoothing', smoothing)
        stdout = capsys.readouterr().out
        assert status == 0, stdout
        assert f'faces parsed: {len(frames)}; images without a face: 0' \
            in stdout
        assert count_frames(out / 'noisy_overlay.mp4') == len(frames)
        labels[smoothing] = [
            cv2.imread(str(out / f'labels/noisy_{i:06d}.png'),
                       cv2.IMREAD_UNCHANGED) for i in range(len(frames))
        ]
    np.testing.assert_array_equal(labels['0'][0], labels['0.7'][0])
    flicker = {key: label_flicker(maps) for key, maps in labels.items()}
    assert flicker['0'] > 0.02
    assert flicker['0.7'] < 0.75 * flicker['0'], flicker
