from .edge import GenerateFaceEdge, label_to_edge
from .flip import FaceRandomFlip
from .formatting import FaceFormatBundle

__all__ = [
    'FaceFormatBundle', 'FaceRandomFlip', 'GenerateFaceEdge', 'label_to_edge'
]
