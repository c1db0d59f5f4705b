from .eagr_head import EAGRHead
from .ehanet_head import EHANetHead
from .light_ham_head import LightHamHead
from .parsenet_head import ParseNetHead
from .segformer_mlp_head import SegformerMLPHead
from .sfnet_head import SFNetHead

__all__ = ['EAGRHead', 'EHANetHead', 'LightHamHead', 'ParseNetHead',
           'SegformerMLPHead', 'SFNetHead']
