from .face_bisenet import FaceBiSeNet
from .mscan import MSCAN
from .parsenet import ParseNet

__all__ = ['FaceBiSeNet', 'MSCAN', 'ParseNet']
