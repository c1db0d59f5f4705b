import cv2
import numpy as np
import pytest

from mmseg_face.apis import (ALIGNMENT_PRESETS, Face, FaceWarp, align_face,
                             paste_face_argmax, paste_face_probs,
                             similarity_from_points)
from mmseg_face.apis.face_alignment import (FARL_TEMPLATE, crop_label_probs,
                                            face_warp)
from mmseg_face.datasets.converters.celebamask_hq import PART_NAMES
from mmseg_face.datasets.sample_faces import compose_wild_scene

NUM_CLASSES = 19
# Parts below the chin run to the drawn image's edge, past what any preset
# frames (CelebA-HQ's crop ends below the chin too); they become background.
BELOW_CHIN = [PART_NAMES.index(name) + 1 for name in ('neck', 'cloth')]


def _similarity(angle_deg, scale, shift):
    matrix = cv2.getRotationMatrix2D((0, 0), angle_deg, scale)
    matrix[:, 2] = shift
    return matrix


def _apply(matrix, points):
    return np.asarray(points, float) @ matrix[:, :2].T + matrix[:, 2]


def test_similarity_from_points_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    expected = _similarity(-33, 1.7, (40, -12))
    np.testing.assert_allclose(
        similarity_from_points(src, _apply(expected, src)), expected,
        atol=1e-9)


def test_similarity_from_points_never_reflects():
    src = np.array([[0, 0], [10, 0], [4, 6], [1, 11], [9, 13.0]])
    mirrored = src * [-1, 1]
    matrix = similarity_from_points(src, mirrored)
    assert np.linalg.det(matrix[:, :2]) > 0


@pytest.mark.parametrize('factor', [0.0, 0.8])
def test_warp_round_trip(factor):
    warp = FaceWarp(_similarity(20, 0.5, (30, 40)), 64, factor)
    # Within reach of the tanh warp: far points saturate at the crop edge.
    points = np.array([[10.0, 20.0], [150, 90], [60, -30], [0, 0]])
    np.testing.assert_allclose(
        warp.crop_to_image(warp.image_to_crop(points)), points, atol=1e-6)


def test_tanh_warp_keeps_the_centre_linear_and_squeezes_the_border():
    warp = FaceWarp(np.float64([[1, 0, 0], [0, 1, 0]]), 100, 0.8)
    # Within |n| <= 0.2 of the centre (pixels 39.5..59.5) nothing moves.
    np.testing.assert_allclose(warp.image_to_crop([[45.0, 55.0]]),
                               [[45.0, 55.0]])
    far = warp.image_to_crop([[5000.0, -5000.0]])[0]
    assert -0.5 <= far[1] < 0 and 99 < far[0] <= 99.5


def test_celeba_hq_crop_is_the_creation_script_square():
    # Eyes 40 apart, mouth 50 below: x = (40, 0) - rot90((0, 50)) = (90, 0),
    # half side max(2 * 40, 1.8 * 50) = 90, centre (120, 100 + 5).
    face = Face(box=(80, 60, 160, 170),
                landmarks=[(100, 100), (140, 100), (120, 125), (105, 150),
                           (135, 150)])
    warp = face_warp(face, 'celeba_hq', 180)
    np.testing.assert_allclose(
        warp.image_to_crop([(30, 15), (210, 195), (120, 105)]),
        [(-0.5, -0.5), (179.5, 179.5), (89.5, 89.5)], atol=1e-9)


def test_farl_puts_the_five_points_on_facer_template():
    size = 448
    template = (FARL_TEMPLATE + 1) * (size - 1) / 2
    matrix = _similarity(25, 0.6, (80, 30))
    face = Face(box=(0, 0, 10, 10), landmarks=_apply(matrix, template))
    warp = face_warp(face, 'farl', size)
    assert warp.warp_factor == 0.8
    np.testing.assert_allclose(_apply(warp.matrix, face.landmarks), template,
                               atol=1e-6)
    # The nose tip lies in the linear core of the tanh warp; the mouth
    # corners, 0.41 below the centre, are pulled in by it.
    crop_points = warp.image_to_crop(face.landmarks)
    np.testing.assert_allclose(crop_points[2], template[2], atol=1e-6)
    assert (crop_points[3:, 1] < template[3:, 1] - 1).all()


def test_faces_without_landmarks_get_the_box_crop():
    face = Face(box=(10, 20, 50, 60))
    for name in ALIGNMENT_PRESETS:
        warp = face_warp(face, name, 64, margin=0.5)
        assert warp.warp_factor == 0
        # Box centre (30, 40) to crop centre; box side 40 * 2 -> 64 px.
        np.testing.assert_allclose(
            warp.image_to_crop([(30, 40), (70, 40)]), [(32, 32), (64, 32)])


def test_unknown_preset_is_named_in_the_error():
    with pytest.raises(ValueError, match="'ffhq'.*celeba_hq, farl, box"):
        face_warp(Face(box=(0, 0, 9, 9)), 'ffhq', 32)


def _place_faces(canvas_hw, placements, seed=0):
    """Ground truth (parts below the chin dropped) and the faces, each with
    its box and five landmarks, of a generated scene."""
    scene = compose_wild_scene(canvas_hw, placements, seed=seed)
    truth = scene['labels']
    truth[np.isin(truth, BELOW_CHIN)] = 0
    faces = [Face(box=box, landmarks=points)
             for box, points in zip(scene['boxes'], scene['landmarks'])]
    return truth, faces


SCENES = {
    # One large face turned by 40 degrees, partly outside the frame.
    'one': ((480, 560), [(40, 2.0, (420, 260))]),
    # Four faces from a quarter to 1.4 times the drawn size, one cut by the
    # right edge.
    'four': ((720, 900), [(-40, 0.25, (70, 70)), (30, 0.5, (250, 110)),
                          (-15, 1.0, (820, 230)), (25, 1.4, (330, 500))]),
}


# The facer presets paste logits (test_facer_alignment.py).
@pytest.mark.parametrize('preset', [
    name for name, preset in ALIGNMENT_PRESETS.items()
    if not preset.facer_sampling])
@pytest.mark.parametrize('scene', list(SCENES))
def test_true_crop_labels_paste_back_onto_the_transformed_truth(
        preset, scene):
    canvas_hw, placements = SCENES[scene]
    truth, faces = _place_faces(canvas_hw, placements)
    assert (truth[:, -1] > 0).any()  # a face runs out of the frame

    warps = [face_warp(face, preset, 256) for face in faces]
    results = [(crop_label_probs(truth, warp, NUM_CLASSES), warp)
               for warp in warps]
    labels = paste_face_probs(canvas_hw, results).argmax(0)

    assert (labels == truth).mean() >= 0.98
    # Stricter: on the pixels either map calls face.
    face_pixels = (labels > 0) | (truth > 0)
    assert (labels == truth)[face_pixels].mean() >= 0.95
    np.testing.assert_array_equal(paste_face_argmax(canvas_hw, results),
                                  labels)


def test_overlapping_faces_keep_their_own_labels():
    # Two faces side by side: each one's crop reaches well into the other.
    truth_a, (face_a, ) = _place_faces((200, 300), [(10, 0.6, (100, 100))])
    truth_b, (face_b, ) = _place_faces((200, 300), [(-10, 0.6, (200, 100))],
                                       seed=1)
    assert not ((truth_a > 0) & (truth_b > 0)).any()
    for preset in ALIGNMENT_PRESETS:
        warp_a = face_warp(face_a, preset, 128)
        warp_b = face_warp(face_b, preset, 128)
        # Each stand-in parse sees only its own face, as a parser would
        # label the face its crop is centred on.
        results = [(crop_label_probs(truth_a, warp_a, NUM_CLASSES), warp_a),
                   (crop_label_probs(truth_b, warp_b, NUM_CLASSES), warp_b)]
        rows_a, cols_a = warp_a.image_region((200, 300))
        rows_b, cols_b = warp_b.image_region((200, 300))
        assert cols_a.stop > cols_b.start  # the crops overlap
        for order in (results, results[::-1]):
            labels = paste_face_probs((200, 300), order).argmax(0)
            for truth in (truth_a, truth_b):
                own = truth > 0
                assert (labels[own] == truth[own]).mean() >= 0.97, preset


def test_pixels_of_no_face_are_background_with_probability_one():
    warp = face_warp(Face(box=(20, 20, 40, 40)), 'box', 16, margin=0.5)
    crop_probs = np.full((3, 16, 16), 1 / 3, np.float32)
    probs = paste_face_probs((60, 80), [(crop_probs, warp)])
    np.testing.assert_allclose(probs.sum(0), 1, atol=1e-5)
    assert (probs[0, 50:] == 1).all() and (probs[1:, 50:] == 0).all()
    np.testing.assert_allclose(probs[:, 30, 30], 1 / 3, atol=1e-5)
    empty = paste_face_probs((5, 6), [], num_classes=3)
    np.testing.assert_array_equal(empty.argmax(0), 0)
    assert empty.shape == (3, 5, 6)
    with pytest.raises(ValueError, match='num_classes'):
        paste_face_probs((5, 6), [])


def test_align_face_crops_what_the_warp_maps():
    img = np.zeros((100, 120, 3), np.uint8)
    cv2.circle(img, (70, 40), 6, (0, 0, 255), -1)
    face = Face(box=(50, 20, 90, 60),
                landmarks=[(62, 35), (78, 35), (70, 42), (64, 50), (76, 50)])
    for preset in ALIGNMENT_PRESETS:
        crop, warp = align_face(img, face, preset, 64)
        ys, xs = np.nonzero(crop[..., 2] > 127)
        np.testing.assert_allclose(
            warp.crop_to_image([(xs.mean(), ys.mean())]), [(70, 40)],
            atol=1.0)
