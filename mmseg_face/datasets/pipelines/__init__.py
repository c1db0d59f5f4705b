from .edge import GenerateFaceEdge, label_to_edge
from .flip import FaceRandomFlip
from .formatting import FaceFormatBundle
from .pillow_resize import PillowResize

__all__ = [
    'FaceFormatBundle', 'FaceRandomFlip', 'GenerateFaceEdge', 'PillowResize',
    'label_to_edge'
]
