from .mscan import MSCAN
from .parsenet import ParseNet

__all__ = ['MSCAN', 'ParseNet']
