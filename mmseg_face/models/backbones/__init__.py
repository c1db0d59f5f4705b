from .mscan import MSCAN

__all__ = ['MSCAN']
