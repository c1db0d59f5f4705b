"""Face parsing for MMSegmentation 0.30.

Importing this package applies the torch/mmcv compatibility patches and
registers every face-parsing model, dataset, transform and loss into mmseg's
registries, which is what ``custom_imports = dict(imports=['mmseg_face'])``
in a config relies on.
"""
from . import compat

compat.apply_all()

from . import core, datasets, models  # noqa: E402,F401  (registration)
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'compat', 'core', 'datasets', 'models']
