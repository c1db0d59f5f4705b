"""Face tracking across frames: ids, matching, smoothing."""
import numpy as np
import pytest
from face_api_helpers import label_flicker, moving_clip

from mmseg_face.apis import Face, FaceTracker, box_iou
from mmseg_face.apis.face_tracking import greedy_match


def square(cx, cy, side=40):
    return Face(box=(cx - side / 2, cy - side / 2, cx + side / 2,
                     cy + side / 2))


def test_box_iou_and_greedy_match_take_the_best_pairs_first():
    tracks = np.array([[0, 0, 10, 10], [20, 0, 30, 10]])
    detections = np.array([[21, 0, 31, 10], [5, 0, 15, 10], [100, 0, 110,
                                                             10]])
    iou = box_iou(tracks, detections)
    assert iou.shape == (2, 3)
    assert iou[0, 1] == pytest.approx(50 / 150)
    assert iou[1, 0] == pytest.approx(90 / 110)
    assert iou[:, 2].max() == 0
    assert greedy_match(iou, 0.3) == [(1, 0), (0, 1)]
    # Below the threshold nothing is linked; each row and column once.
    assert greedy_match(iou, 0.5) == [(1, 0)]
    assert greedy_match(np.array([[0.9, 0.8]]), 0.3) == [(0, 0)]


def test_crossing_faces_keep_their_ids():
    """Two faces run into each other and out again along one line; the
    constant-velocity prediction keeps each id on its face even while the
    boxes overlap almost fully."""
    tracker = FaceTracker(iou_threshold=0.3, max_missed=2,
                          landmark_smoothing=0.5)
    ids_of_left_mover = set()
    ids_of_right_mover = set()
    for step in range(30):
        right_mover = square(40 + 8 * step, 100)
        left_mover = square(272 - 8 * step, 104)
        # The detector's order changes from frame to frame.
        faces = [right_mover, left_mover] if step % 2 else \
            [left_mover, right_mover]
        tracks = tracker.update(faces)
        by_face = dict(zip(map(id, faces), tracks))
        ids_of_right_mover.add(by_face[id(right_mover)].track_id)
        ids_of_left_mover.add(by_face[id(left_mover)].track_id)
    assert len(ids_of_right_mover) == len(ids_of_left_mover) == 1
    assert ids_of_right_mover != ids_of_left_mover


def test_a_face_leaving_ends_its_track_and_a_new_face_gets_a_new_id():
    tracker = FaceTracker(max_missed=2, landmark_smoothing=0.0)
    first = tracker.update([square(50, 50), square(200, 50)])
    staying, leaving = (track.track_id for track in first)
    for _ in range(3):  # the second face has left; the first stays
        (track, ) = tracker.update([square(50, 50)])
        assert track.track_id == staying
    assert [t.track_id for t in tracker.tracks] == [staying]
    # A face where the one that left used to be is somebody new.
    tracks = tracker.update([square(200, 50), square(51, 50)])
    assert tracks[1].track_id == staying
    assert tracks[0].track_id not in (staying, leaving)


def test_a_face_missed_for_a_few_frames_keeps_its_id():
    tracker = FaceTracker(max_missed=3, landmark_smoothing=0.5)
    ids = [tracker.update([square(50 + 4 * step, 60)])[0].track_id
           for step in range(5)]
    for _ in range(3):
        assert tracker.update([]) == []
    # It moved on while unseen; the prediction followed it.
    ids.append(tracker.update([square(50 + 4 * 8, 60)])[0].track_id)
    assert len(set(ids)) == 1


def test_landmark_smoothing_damps_jitter_without_lagging_behind_motion():
    rng = np.random.default_rng(0)
    landmarks = np.array([[-10, -8], [10, -8], [0, 2], [-7, 12], [7, 12]],
                         np.float64)

    def run(smoothing, noise):
        tracker = FaceTracker(landmark_smoothing=smoothing)
        errors = []
        for step in range(60):
            centre = np.array([100 + 3 * step, 80 + step], np.float64)
            true_points = landmarks + centre
            jitter = rng.normal(0, noise, true_points.shape)
            face = Face(box=(centre[0] - 20, centre[1] - 20,
                             centre[0] + 20, centre[1] + 20),
                        landmarks=true_points + jitter)
            (track, ) = tracker.update([face])
            if step >= 20:  # once the filter has settled
                errors.append(
                    np.abs(track.face.landmarks - true_points).mean())
        return float(np.mean(errors))

    raw, smoothed = run(0.0, 2.0), run(0.7, 2.0)
    assert smoothed < 0.6 * raw
    # Steady motion without jitter is followed without lag (a plain moving
    # average with this weight would trail 3 * 0.7 / 0.3 = 7 px behind).
    assert run(0.7, 0.0) < 0.01


def test_smoothing_factors_are_checked():
    with pytest.raises(ValueError, match='landmark_smoothing'):
        FaceTracker(landmark_smoothing=1.0)
    with pytest.raises(ValueError, match='iou_threshold'):
        FaceTracker(iou_threshold=0)


@pytest.fixture(scope='module')
def tiny_parser(tiny_checkpoint):
    from face_api_helpers import TINY_CONFIG

    from mmseg_face.apis import FaceParser
    return FaceParser(TINY_CONFIG, tiny_checkpoint, alignment='farl')


def test_probability_smoothing_steadies_the_labels_of_a_noisy_clip(
        tiny_parser):
    """The random-weight parser's labels flicker with the sensor noise; the
    moving average of the crop probabilities must measurably calm them."""
    from mmseg_face.apis import VideoFaceParser
    frames, faces = moving_clip(12, faces_per_frame=[0])
    flicker = {}
    for smoothing in (0.0, 0.7):
        video_parser = VideoFaceParser(tiny_parser, prob_smoothing=smoothing)
        results = [
            video_parser.parse_frame(frame, frame_faces)
            for frame, frame_faces in zip(frames, faces)
        ]
        assert {tuple(r.track_ids) for r in results} == {(0, )}
        flicker[smoothing] = label_flicker([r.labels for r in results])
    assert flicker[0.0] > 0.02  # the parser is noisy enough to tell
    print(f'label flicker: {flicker}')
    assert flicker[0.7] < 0.75 * flicker[0.0], flicker


def test_video_parser_keeps_ids_and_gives_probabilities(tiny_parser):
    from mmseg_face.apis import VideoFaceParser

    class GivenFaces:
        """A detector that returns the clip's faces, frame after frame."""

        def __init__(self, faces):
            self.faces = iter(faces)

        def detect(self, img):
            return next(self.faces)

    frames, faces = moving_clip(6, faces_per_frame=[0, 1], noise=4)
    # The second face leaves after frame 2.
    faces = faces[:3] + [frame_faces[:1] for frame_faces in faces[3:]]
    video_parser = VideoFaceParser(tiny_parser, max_missed=1)
    tiny_parser._detector = GivenFaces(faces)
    try:
        results = list(video_parser.parse_video(frames, return_probs=True))
    finally:
        tiny_parser._detector = None
    assert [r.track_ids for r in results] == [[0, 1]] * 3 + [[0]] * 3
    assert [t.track_id for t in video_parser.tracker.tracks] == [0]
    for result, given in zip(results, faces):
        assert result.probs.shape == (19, 120, 200)
        np.testing.assert_allclose(result.probs.sum(0), 1, atol=1e-4)
        np.testing.assert_array_equal(result.labels,
                                      result.probs.argmax(0))
        # Smoothed faces stay near the given ones.
        assert abs(result.faces[0].landmarks - given[0].landmarks).max() < 3


def test_a_real_face_moving_keeps_one_track_with_the_default_detector(
        tiny_parser):
    """scikit-image's public-domain astronaut, shifted 3 px right and 1 px
    down per frame: MTCNN finds her in every frame, the tracker keeps one
    id, and the smoothed landmarks follow the motion."""
    import cv2
    from skimage import data

    from mmseg_face.apis import VideoFaceParser
    astronaut = np.ascontiguousarray(data.astronaut()[..., ::-1])
    shifts = [(3 * i, i) for i in range(8)]
    frames = [
        cv2.warpAffine(astronaut, np.float64([[1, 0, dx], [0, 1, dy]]),
                       (512, 512), borderMode=cv2.BORDER_REPLICATE)
        for dx, dy in shifts
    ]
    results = list(VideoFaceParser(tiny_parser).parse_video(frames))

    assert [r.track_ids for r in results] == [[0]] * len(frames)
    start = results[0].faces[0].landmarks
    for result, shift in zip(results, shifts):
        moved = result.faces[0].landmarks - start
        np.testing.assert_allclose(moved, np.broadcast_to(shift, (5, 2)),
                                   atol=3)
        assert result.labels.shape == (512, 512) and result.labels.any()
