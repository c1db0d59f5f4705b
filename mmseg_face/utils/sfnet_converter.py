"""SFNet's ImageNet ResNet-18 (``resnet18-deep-inplane128.pth``) for
:class:`~mmseg_face.models.backbones.Conv2DilatedResNetV1c`."""
import os.path as osp

from .resnet_converter import convert_deep_stem_resnet

# The backbone the converted weights are for: SFNet's ResNet-18.
SFNET_RESNET18 = dict(
    type='Conv2DilatedResNetV1c',
    depth=18,
    stem_channels=128,
    strides=(1, 2, 2, 2),
    dilations=(1, 1, 2, 4),
    style='pytorch')


def convert_sfnet_resnet_file(src, dst):
    """What ``tools/model_converters/sfnet_resnet.py SRC DST`` does: convert
    ``src`` with :func:`~.resnet_converter.convert_deep_stem_resnet` (the
    official ``network/resnet_d.py`` deep stem), check that it fits SFNet's
    ResNet-18 exactly and write it with its source file and sha256.

    Returns:
        str: A one-line summary of what was written.

    Raises:
        CheckpointError: If ``src`` is not such a checkpoint (the message
            names the file and the first offending key).
    """
    from mmseg.models import build_backbone

    import mmseg_face.models  # noqa: F401  (registers the backbone)
    from .checkpoint import (CheckpointError, check_fit, load_from_local,
                             save_weights)
    from .checkpoint_converters import file_sha256
    try:
        state_dict = convert_deep_stem_resnet(
            load_from_local(src, map_location='cpu'))
    except KeyError as error:
        raise CheckpointError(src, error.args[0]) from error
    check_fit(build_backbone(SFNET_RESNET18), state_dict, src)
    save_weights(state_dict, dst, meta=dict(
        backbone=SFNET_RESNET18,
        source=dict(project='lxtGH/SFSegNets', file=osp.basename(src),
                    sha256=file_sha256(src)),
        converter='tools/model_converters/sfnet_resnet.py'))
    return f'wrote {len(state_dict)} tensors for SFNet ResNet-18 to {dst}'
