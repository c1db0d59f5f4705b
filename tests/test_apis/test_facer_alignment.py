"""facer's warp for its FaRL parsers (presets facer_celebm, facer_lapa):
facer's matrices from the same landmark numbers, the float grid_sample crop,
and logits (not probabilities) sampled back into the image."""
import numpy as np
import pytest

from mmseg_face.apis import Face, FaceWarp, paste_face_logits
from mmseg_face.apis.face_alignment import (FARL_TEMPLATE, align_face,
                                            celeba_hq_matrix,
                                            facer_lapa_matrix, face_warp)

SIZE = 448


def facer_similarity(src, dst):
    """facer's get_similarity_transform_matrix, written out by hand:
    ``[[a, b, dx], [-b, a, dy]]`` with a, b its least-squares ratios."""
    src_c, dst_c = src - src.mean(0), dst - dst.mean(0)
    norm = (src_c**2).sum()
    a = (src_c * dst_c).sum() / norm
    b = (dst_c[:, 0] * src_c[:, 1] - dst_c[:, 1] * src_c[:, 0]).sum() / norm
    dx = dst.mean(0)[0] - a * src.mean(0)[0] - b * src.mean(0)[1]
    dy = dst.mean(0)[1] + b * src.mean(0)[0] - a * src.mean(0)[1]
    return np.array([[a, b, dx], [-b, a, dy]])


def test_lapa_matrix_is_facers_in_opencv_coordinates():
    landmarks = np.array([[120.3, 140.2], [181.7, 133.9], [150.2, 171.0],
                          [128.8, 205.4], [175.1, 201.2]])
    target = (FARL_TEMPLATE + 1) * (SIZE - 1) / 2
    theirs = facer_similarity(landmarks, target)
    ours = facer_lapa_matrix(landmarks, SIZE)
    # facer's coordinates put pixel centres at +0.5: x_cv + 0.5 in, and its
    # result minus 0.5 is ours.
    points = np.array([[0.0, 0.0], [37.0, 250.0], [300.5, 12.25]])
    expected = (points + 0.5) @ theirs[:, :2].T + theirs[:, 2] - 0.5
    np.testing.assert_allclose(points @ ours[:, :2].T + ours[:, 2], expected,
                               atol=1e-9)


def test_template_landmarks_give_the_identity():
    template = (FARL_TEMPLATE + 1) * (SIZE - 1) / 2
    np.testing.assert_allclose(facer_lapa_matrix(template, SIZE),
                               [[1, 0, 0], [0, 1, 0]], atol=1e-12)


def test_lapa_crop_of_template_landmarks_keeps_the_core_exact():
    """On facer's template points the matrix is the identity: the tanh
    warp's linear core (|n| <= 0.2 of the centre) samples the image at its
    own pixel centres, so the float crop there equals the image exactly;
    outside it the crop squeezes, keeping fractional grey levels."""
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    face = Face((100, 100, 348, 348), 1.0,
                (FARL_TEMPLATE + 1) * (SIZE - 1) / 2)
    crop, warp = align_face(img, face, 'facer_lapa', SIZE)
    assert crop.dtype == np.float32 and crop.shape == (SIZE, SIZE, 3)
    assert warp.float_sampling and warp.warp_factor == 0.8
    core = slice(181, 267)  # pixel centres within 0.2 * 224 of 223.5
    # grid_sample's float32 grid places points within ~3e-5 px: 255 grey
    # levels times that.
    np.testing.assert_allclose(crop[core, core], img[core, core], atol=0.01)
    squeezed = crop[150:180]  # just outside the core, inside the image
    assert np.any(np.abs(squeezed - np.round(squeezed)) > 1e-2)


def test_celebm_crop_samples_between_pixels_without_rounding():
    """A crop at half the image's scale samples midway between pixels: the
    float crop is the mean of four pixels, which uint8 would round."""
    img = np.zeros((8, 8), np.uint8)
    img[::2, ::2] = 1
    # image -> crop: x / 2 - 0.25 (pixel centres at the pixel corners' mean).
    warp = FaceWarp(np.array([[0.5, 0, -0.25], [0, 0.5, -0.25]]), 4,
                    float_sampling=True)
    crop = warp.crop(np.dstack([img] * 3))
    np.testing.assert_allclose(crop[..., 0], np.full((4, 4), 0.25))


@pytest.mark.parametrize('preset', ['facer_celebm', 'facer_lapa'])
def test_warp_round_trip(preset):
    landmarks = np.array([[210.0, 230.0], [300.0, 228.0], [255.0, 290.0],
                          [222.0, 350.0], [290.0, 348.0]])
    warp = face_warp(Face((150, 150, 350, 400), 1.0, landmarks), preset, SIZE)
    points = np.array([[250.0, 260.0], [180.0, 390.0], [320.5, 211.25]])
    np.testing.assert_allclose(
        warp.crop_to_image(warp.image_to_crop(points)), points, atol=1e-6)


def test_celebm_preset_uses_the_celeba_hq_square():
    landmarks = np.array([[210.0, 230.0], [300.0, 228.0], [255.0, 290.0],
                          [222.0, 350.0], [290.0, 348.0]])
    warp = face_warp(Face((150, 150, 350, 400), 1.0, landmarks),
                     'facer_celebm', SIZE)
    np.testing.assert_allclose(warp.matrix, celeba_hq_matrix(landmarks, SIZE))
    assert warp.warp_factor == 0 and warp.float_sampling


def shifted_warp(shift, crop_size):
    """Crop pixel = image pixel - shift."""
    return FaceWarp(np.array([[1.0, 0, -shift], [0, 1, -shift]]), crop_size,
                    float_sampling=True)


def test_logits_are_zero_outside_and_label_the_covered_pixels():
    """A 4 x 4 crop at (2, 2) of an 8 x 8 image, class 1 everywhere in it:
    pixels 2-5 are class 1; pixel 1 maps to crop -1, where a bilinear tap
    has no weight, so it stays background as in facer."""
    logits = np.zeros((2, 4, 4), np.float32)
    logits[1] = 1
    labels = paste_face_logits((8, 8), [(logits, shifted_warp(2, 4))])
    expected = np.zeros((8, 8), np.uint8)
    expected[2:6, 2:6] = 1
    np.testing.assert_array_equal(labels, expected)


def test_logits_not_probabilities_are_interpolated():
    """Halfway between a crop pixel with logits (3, 4, 0) and one with
    (3, 0, 4.1): the mean logits (3, 2, 2.05) say background, the mean
    probabilities (0.256, 0.367, 0.377) would say class 2."""
    logits = np.zeros((3, 2, 2), np.float32)
    logits[:, :, 0] = np.array([[3, 4, 0]]).T
    logits[:, :, 1] = np.array([[3, 0, 4.1]]).T
    # Image pixel x -> crop x / 4 - 1 / 4: pixels 0-7 fall at crop -0.25,
    # 0, ..., 1.5, pixel 3 halfway.
    warp = FaceWarp(np.array([[0.25, 0, -0.25], [0, 1, 0]]), 2,
                    float_sampling=True)
    labels, probs = paste_face_logits((2, 8), [(logits, warp)],
                                      return_probs=True)
    # Pixels 2 (0.75:0.25, a 0/1 tie) and 4 are left out; pixels 0 and 7
    # mix one crop pixel with the zeros outside.
    assert labels[0, [0, 1, 3, 5, 6, 7]].tolist() == [1, 1, 0, 2, 2, 2]
    expected = np.exp([3, 2, 2.05]) / np.exp([3, 2, 2.05]).sum()
    np.testing.assert_allclose(probs[:, 0, 3], expected, rtol=1e-5)


def test_logits_at_another_resolution_cover_the_same_area():
    """facer samples its 512 logits at 448-crop points: a 2x finer logit
    map of the same area gives the labels of the coarse one."""
    coarse = np.zeros((2, 4, 4), np.float32)
    coarse[1, :, 2:] = 1
    fine = np.repeat(np.repeat(coarse, 2, 1), 2, 2)
    warp = shifted_warp(0, 4)
    labels = paste_face_logits((4, 4), [(fine, warp)])
    np.testing.assert_array_equal(
        labels, paste_face_logits((4, 4), [(coarse, warp)]))
    assert labels[0].tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize('preset', ['facer_celebm', 'facer_lapa'])
def test_true_crop_logits_paste_back_onto_the_truth(preset):
    """One large turned face, partly out of the frame: one-hot logits of
    its true crop labels, pasted back, give the truth again except along
    part boundaries and below the chin (beyond what either crop frames)."""
    from mmseg_face.apis.face_alignment import crop_label_probs
    from mmseg_face.datasets.sample_faces import compose_wild_scene
    scene = compose_wild_scene((480, 560), [(40, 2.0, (420, 260))])
    truth = scene['labels']
    face = Face(box=scene['boxes'][0], landmarks=scene['landmarks'][0])
    warp = face_warp(face, preset, 256)
    logits = crop_label_probs(truth, warp, 19) * 10
    labels = paste_face_logits(truth.shape, [(logits, warp)])
    face_pixels = (labels > 0) | (truth > 0)
    assert (labels == truth)[face_pixels].mean() >= 0.9
    assert (labels == truth).mean() >= 0.97
