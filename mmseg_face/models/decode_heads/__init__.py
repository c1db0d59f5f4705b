from .eagr_head import EAGRHead
from .ehanet_head import EHANetHead
from .light_ham_head import LightHamHead
from .parsenet_head import ParseNetHead
from .sfnet_head import SFNetHead
from .sfnet_lite_head import SFNetLiteHead

__all__ = ['EAGRHead', 'EHANetHead', 'LightHamHead', 'ParseNetHead',
           'SFNetHead', 'SFNetLiteHead']
