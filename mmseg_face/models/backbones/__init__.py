from .face_bisenet import FaceBiSeNet
from .hrnet_psa import HRNetPSA
from .mscan import MSCAN
from .parsenet import ParseNet

__all__ = ['FaceBiSeNet', 'HRNetPSA', 'MSCAN', 'ParseNet']
