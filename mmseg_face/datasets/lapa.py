from collections import OrderedDict

from mmseg.datasets.builder import DATASETS

from .face_parsing import FaceParsingDataset

# Shared by Helen and LaPa, which use the same 11 classes in the same order.
ELEVEN_CLASSES = ('background', 'skin', 'left_eyebrow', 'right_eyebrow',
                  'left_eye', 'right_eye', 'nose', 'upper_lip', 'inner_mouth',
                  'lower_lip', 'hair')
# LaPa's official colour map, RGB: colormap.txt of JDAI-CV/lapa-dataset at
# commit 271ab6d17aadb9b3f4d05bf5523da1d66ba53cf8 (RGB, not BGR: its
# sample.png legend shows skin blue, hair pink and nose orange). Helen ships
# no colour map and has the same classes in the same order, so it uses this.
ELEVEN_PALETTE = [[0, 0, 0], [0, 153, 255], [102, 255, 153], [0, 204, 153],
                  [255, 255, 102], [255, 255, 204], [255, 153, 0],
                  [255, 102, 255], [102, 0, 51], [255, 204, 255],
                  [255, 0, 102]]
ELEVEN_FLIP_PAIRS = ((2, 3), (4, 5))
# Helen protocol: left/right and the three mouth parts are merged, and
# "overall" is one F1 over eyes, brows, nose and mouth (skin, hair and
# background excluded).
ELEVEN_F1_GROUPS = OrderedDict(
    eyes=(4, 5),
    brows=(2, 3),
    mouth=(7, 8, 9),
    overall=(2, 3, 4, 5, 6, 7, 8, 9))


@DATASETS.register_module()
class LaPaDataset(FaceParsingDataset):
    """LaPa, 11 classes.

    `LaPa <https://github.com/jd-opensource/lapa-dataset>`_ labels are class
    ids 0..10 as released. ``PALETTE`` is the release's official colour map
    (``colormap.txt`` of JDAI-CV/lapa-dataset, commit 271ab6d, in RGB).

    Left/right: "left" is the **image-left** side (a real sample has labels
    2 and 4 at x≈164 of 378), i.e. the subject's right: the opposite of
    CelebAMask-HQ's ``l_*``. Flip pairs: (left_eyebrow, right_eyebrow),
    (left_eye, right_eye).

    ``mF1`` averages the 10 non-background classes (hair included);
    ``F1.overall`` is the Helen-style merged F1 (see ``F1_GROUPS``).
    """

    CLASSES = ELEVEN_CLASSES
    PALETTE = ELEVEN_PALETTE
    FLIP_PAIRS = ELEVEN_FLIP_PAIRS
    F1_GROUPS = ELEVEN_F1_GROUPS

    def __init__(self, **kwargs):
        super().__init__(reduce_zero_label=False, **kwargs)
