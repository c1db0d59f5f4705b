from .face_bisenet import FaceBiSeNet
from .mscan import MSCAN
from .parsenet import ParseNet
from .regseg import RegSegNet
from .strip_pooling_resnet import StripPoolingGate, StripPoolingResNet

__all__ = ['FaceBiSeNet', 'MSCAN', 'ParseNet', 'RegSegNet', 'StripPoolingGate',
           'StripPoolingResNet']
