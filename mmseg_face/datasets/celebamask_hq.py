from mmseg.datasets.builder import DATASETS

from .face_parsing import FaceParsingDataset


@DATASETS.register_module()
class CelebAMaskHQDataset(FaceParsingDataset):
    """CelebAMask-HQ, 19 classes in the official order of its release.

    `CelebAMask-HQ <https://github.com/switchablenorms/CelebAMask-HQ>`_
    ids and palette follow the release's ``g_mask.py``/``g_color.py``: the
    converter paints the part masks in id order, so a later part wins an
    overlap (``cloth`` over ``neck``, ``l_eye`` over ``eye_g``).

    Left/right: ``l_*`` is the **subject's** left, which is the
    **image-right** side of a frontal face (l_eye/l_brow centroids at
    x≈320–333 of 512). Flip pairs: (l_eye, r_eye), (l_brow, r_brow),
    (l_ear, r_ear).

    ``mF1`` averages the 18 non-background classes (hair, hat, earring,
    necklace, neck and cloth included), as FaRL and SegFace report it.
    """

    CLASSES = ('background', 'skin', 'nose', 'eye_g', 'l_eye', 'r_eye',
               'l_brow', 'r_brow', 'l_ear', 'r_ear', 'mouth', 'u_lip',
               'l_lip', 'hair', 'hat', 'ear_r', 'neck_l', 'neck', 'cloth')
    PALETTE = [[0, 0, 0], [204, 0, 0], [76, 153, 0], [204, 204, 0],
               [51, 51, 255], [204, 0, 204], [0, 255, 255], [255, 204, 204],
               [102, 51, 0], [255, 0, 0], [102, 204, 0], [255, 255, 0],
               [0, 0, 153], [0, 0, 204], [255, 51, 153], [0, 204, 204],
               [0, 51, 0], [255, 153, 51], [0, 204, 0]]
    FLIP_PAIRS = ((4, 5), (6, 7), (8, 9))

    def __init__(self, **kwargs):
        super().__init__(reduce_zero_label=False, **kwargs)
