from .celebamask_hq import CelebAMaskHQDataset
from .face_parsing import ConfusionMatrix, FaceParsingDataset
from .helen import HelenDataset
from .lapa import LaPaDataset
from .pipelines import (FaceFormatBundle, FaceRandomFlip, GenerateFaceEdge,
                        PillowResize, label_to_edge)

__all__ = [
    'CelebAMaskHQDataset', 'ConfusionMatrix', 'FaceFormatBundle',
    'FaceParsingDataset', 'FaceRandomFlip', 'GenerateFaceEdge',
    'HelenDataset', 'LaPaDataset', 'PillowResize', 'label_to_edge'
]
