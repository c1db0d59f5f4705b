from .cp_head import CPHead
from .eagr_head import EAGRHead
from .ehanet_head import EHANetHead
from .light_ham_head import LightHamHead
from .parsenet_head import ParseNetHead
from .sfnet_head import SFNetHead

__all__ = ['CPHead', 'EAGRHead', 'EHANetHead', 'LightHamHead', 'ParseNetHead',
           'SFNetHead']
