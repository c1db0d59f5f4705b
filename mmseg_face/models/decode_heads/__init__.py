from .eagr_head import EAGRHead
from .ehanet_head import EHANetHead
from .light_ham_head import LightHamHead

__all__ = ['EAGRHead', 'EHANetHead', 'LightHamHead']
