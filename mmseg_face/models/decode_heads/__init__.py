from .aux_conv_head import AuxConvHead
from .cp_head import CPHead
from .eagr_head import EAGRHead
from .ehanet_head import EHANetHead
from .light_ham_head import LightHamHead
from .parsenet_head import ParseNetHead
from .sfnet_head import SFNetHead
from .sr_head import SRHead

__all__ = ['AuxConvHead', 'CPHead', 'EAGRHead', 'EHANetHead', 'LightHamHead',
           'ParseNetHead', 'SFNetHead', 'SRHead']
