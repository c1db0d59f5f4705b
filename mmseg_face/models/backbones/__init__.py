from .face_bisenet import FaceBiSeNet
from .mscan import MSCAN
from .parsenet import ParseNet
from .vgg_deeplabv1 import VGGDeepLabV1

__all__ = ['FaceBiSeNet', 'MSCAN', 'ParseNet', 'VGGDeepLabV1']
