from .face_bisenet import FaceBiSeNet
from .mscan import MSCAN
from .parsenet import ParseNet
from .sdpa_mit import SDPAMixVisionTransformer

__all__ = ['FaceBiSeNet', 'MSCAN', 'ParseNet', 'SDPAMixVisionTransformer']
