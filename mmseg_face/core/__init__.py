from . import evaluation  # noqa: F401

__all__ = ['evaluation']
