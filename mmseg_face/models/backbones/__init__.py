from .face_bisenet import FaceBiSeNet
from .farl_vit import FaRLViT
from .mscan import MSCAN
from .parsenet import ParseNet

__all__ = ['FaceBiSeNet', 'FaRLViT', 'MSCAN', 'ParseNet']
