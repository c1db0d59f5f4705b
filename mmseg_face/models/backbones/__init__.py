from .conv2_dilated_resnet import Conv2DilatedResNetV1c
from .face_bisenet import FaceBiSeNet
from .farl_vit import FaRLViT
from .hrnet_psa import HRNetPSA
from .mscan import MSCAN
from .parsenet import ParseNet
from .regseg import RegSegNet
from .sdpa_mit import SDPAMixVisionTransformer
from .stdc_all_levels import STDCNetAllLevels
from .strip_pooling_resnet import StripPoolingGate, StripPoolingResNet
from .vgg_deeplabv1 import VGGDeepLabV1

__all__ = [
    'Conv2DilatedResNetV1c', 'FaRLViT', 'FaceBiSeNet', 'HRNetPSA', 'MSCAN',
    'ParseNet', 'RegSegNet', 'SDPAMixVisionTransformer', 'STDCNetAllLevels',
    'StripPoolingGate', 'StripPoolingResNet', 'VGGDeepLabV1'
]
