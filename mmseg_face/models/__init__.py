from . import backbones, decode_heads, losses, segmentors  # noqa: F401

__all__ = ['backbones', 'decode_heads', 'losses', 'segmentors']
