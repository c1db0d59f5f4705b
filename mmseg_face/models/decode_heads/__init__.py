from .aux_conv_head import AuxConvHead
from .biased_ocr_head import BiasedOCRHead
from .cp_head import CPHead
from .deeplabv1_head import DeepLabV1Head
from .eagr_head import EAGRHead
from .ehanet_head import EHANetHead
from .light_ham_head import LightHamHead
from .ocr_aux_head import OCRAuxHead
from .parsenet_head import ParseNetHead
from .regseg_head import RegSegHead
from .segformer_mlp_head import SegformerMLPHead
from .sfnet_head import SFNetHead
from .sfnet_lite_head import SFNetLiteHead
from .sp_head import SPHead
from .sr_head import SRHead

__all__ = [
    'AuxConvHead', 'BiasedOCRHead', 'CPHead', 'DeepLabV1Head', 'EAGRHead',
    'EHANetHead', 'LightHamHead', 'OCRAuxHead', 'ParseNetHead', 'RegSegHead',
    'SFNetHead', 'SFNetLiteHead', 'SPHead', 'SRHead', 'SegformerMLPHead'
]
