"""Converters from the original dataset releases to the converted layout."""
from .celebamask_hq import convert_celebamask_hq
from .common import ConversionError, ConversionSummary
from .edges import generate_edge_maps
from .helen import convert_helen
from .lapa import convert_lapa

__all__ = [
    'ConversionError', 'ConversionSummary', 'convert_celebamask_hq',
    'convert_helen', 'convert_lapa', 'generate_edge_maps'
]
