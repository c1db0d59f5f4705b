from .eagr_head import EAGRHead
from .ehanet_head import EHANetHead
from .light_ham_head import LightHamHead
from .parsenet_head import ParseNetHead
from .regseg_head import RegSegHead
from .sfnet_head import SFNetHead
from .sp_head import SPHead

__all__ = ['EAGRHead', 'EHANetHead', 'LightHamHead', 'ParseNetHead',
           'RegSegHead', 'SFNetHead', 'SPHead']
