from mmseg.datasets.builder import DATASETS

from .face_parsing import FaceParsingDataset
from .lapa import (ELEVEN_CLASSES, ELEVEN_F1_GROUPS, ELEVEN_FLIP_PAIRS,
                   ELEVEN_PALETTE)


@DATASETS.register_module()
class HelenDataset(FaceParsingDataset):
    """Helen parsing labels of Smith et al. (CVPR 2013), 11 classes.

    Class ``k`` is the argmax channel ``_lbl{k:02d}`` of the release's soft
    masks: background, face skin, left/right eyebrow, left/right eye, nose,
    upper lip, inner mouth, lower lip, hair.

    Left/right: taken to be the **image-left** side, as in LaPa. This was
    not verified on a real sample; flip pairs do not depend on it. Flip
    pairs: (left_eyebrow, right_eyebrow), (left_eye, right_eye).

    Besides ``mF1`` (10 non-background classes), evaluation reports the
    protocol's merged ``F1.eyes``, ``F1.brows``, ``F1.mouth`` (upper lip,
    inner mouth, lower lip) and ``F1.overall`` (eyes, brows, nose and mouth
    as one class).

    Helen ships no colour map; ``PALETTE`` is LaPa's official one, which has
    the same 11 classes in the same order.
    """

    CLASSES = ELEVEN_CLASSES
    PALETTE = ELEVEN_PALETTE
    FLIP_PAIRS = ELEVEN_FLIP_PAIRS
    F1_GROUPS = ELEVEN_F1_GROUPS

    def __init__(self, **kwargs):
        super().__init__(reduce_zero_label=False, **kwargs)
