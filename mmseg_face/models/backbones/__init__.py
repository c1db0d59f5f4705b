from .conv2_dilated_resnet import Conv2DilatedResNetV1c
from .face_bisenet import FaceBiSeNet
from .mscan import MSCAN
from .parsenet import ParseNet
from .stdc_all_levels import STDCNetAllLevels

__all__ = ['Conv2DilatedResNetV1c', 'FaceBiSeNet', 'MSCAN', 'ParseNet',
           'STDCNetAllLevels']
