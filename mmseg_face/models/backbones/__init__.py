from .face_bisenet import FaceBiSeNet
from .hrnet_psa import HRNetPSA
from .mscan import MSCAN
from .parsenet import ParseNet
from .vgg_deeplabv1 import VGGDeepLabV1

__all__ = ['FaceBiSeNet', 'HRNetPSA', 'MSCAN', 'ParseNet', 'VGGDeepLabV1']
