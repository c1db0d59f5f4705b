"""Convert e4s2022/SegNeXt-FaceParser checkpoints (MSCAN + LightHamHead).

The four published files (``segnext.{tiny,small,base,large}.best_mIoU_iter_
*.pth``) are mmcv 1.5 checkpoints ``{meta, state_dict, optimizer}`` of
mmseg 0.24's ``EncoderDecoder``. Our ``MSCAN`` and ``LightHamHead`` keep the
original module names, so the weights move unchanged, except:

* the tiny, base and large models were trained with a 150-output classifier
  (``num_classes=150`` left over from the ADE20K configs; their dumped
  training configs say so) of which only the first 19 outputs ever saw a
  label: the converter keeps those 19 rows (and biases);
* the output rows are matched by name to the official CelebAMask-HQ order
  (the original's order already is that order, with ``background`` spelt
  ``backgound``), which leaves them in place;
* our head stores the NMF bases it evaluates with (the original draws new
  random ones on every forward); the converter adds the seeded buffer our
  head builds, so the converted file is complete.
"""
import re
from collections import OrderedDict

from .checkpoint_converters import _unwrapped, class_permutation

# The original dataset's class order (mmseg/datasets/celebamaskhq.py of
# SegNeXt-FaceParser), with its spelling.
SEGNEXT_FACEPARSER_CLASSES = (
    'backgound', 'skin', 'nose', 'eye_g', 'l_eye', 'r_eye', 'l_brow',
    'r_brow', 'l_ear', 'r_ear', 'mouth', 'u_lip', 'l_lip', 'hair', 'hat',
    'ear_r', 'neck_l', 'neck', 'cloth')
# The original's misspelt names and what they are.
CLASS_NAME_FIXES = {'backgound': 'background'}
# Outputs of the ADE20K classifier the tiny, base and large files kept.
ADE20K_OUTPUTS = 150

# Per size: encoder widths and depths, head channels, and the NMF rank of
# the original training config (tiny and small set MD_R=16; base and large
# set no ham_kwargs, so the head's default 64 applies).
SEGNEXT_FACEPARSER_SIZES = OrderedDict([
    ('t', dict(name='tiny', embed_dims=(32, 64, 160, 256),
               depths=(3, 3, 5, 2), channels=256, md_r=16)),
    ('s', dict(name='small', embed_dims=(64, 128, 320, 512),
               depths=(2, 2, 4, 2), channels=256, md_r=16)),
    ('b', dict(name='base', embed_dims=(64, 128, 320, 512),
               depths=(3, 3, 12, 3), channels=512, md_r=64)),
    ('l', dict(name='large', embed_dims=(64, 128, 320, 512),
               depths=(3, 5, 27, 3), channels=1024, md_r=64)),
])
# Config of each converted size, relative to PROJECT_ROOT.
SEGNEXT_FACEPARSER_CONFIGS = {
    size: f'local_configs/segnext/{spec["name"]}/segnext_mscan-{size}_e4s_'
    '512x512_celebamask-hq.py'
    for size, spec in SEGNEXT_FACEPARSER_SIZES.items()
}
_PROJECT = 'e4s2022/SegNeXt-FaceParser'
_BASES_KEY = 'decode_head.hamburger.ham.fixed_bases'
_CLASSIFIER = 'decode_head.conv_seg'
_MD_R = re.compile(r'MD_R\s*=\s*(\d+)')


def _architecture(state_dict):
    """The size key whose encoder and head the weights have."""
    stem = state_dict.get('backbone.patch_embed1.proj.3.weight')
    align = state_dict.get('decode_head.align.conv.weight')
    if stem is None or align is None:
        raise ValueError(
            'not a SegNeXt (MSCAN + LightHamHead) checkpoint: expected '
            'backbone.patch_embed1.proj.3.weight and '
            'decode_head.align.conv.weight')
    embed_dims = tuple(
        int(state_dict[f'backbone.norm{stage}.weight'].shape[0])
        for stage in range(1, 5) if f'backbone.norm{stage}.weight' in
        state_dict)
    depths = tuple(
        len({key.split('.')[2] for key in state_dict
             if key.startswith(f'backbone.block{stage}.')})
        for stage in range(1, 5))
    found = dict(embed_dims=embed_dims, depths=depths,
                 channels=int(align.shape[0]))
    for size, spec in SEGNEXT_FACEPARSER_SIZES.items():
        if all(spec[key] == value for key, value in found.items()):
            return size
    names = ', '.join(spec['name']
                      for spec in SEGNEXT_FACEPARSER_SIZES.values())
    raise ValueError(
        f'a SegNeXt of embed_dims {embed_dims}, depths {depths} and head '
        f'channels {found["channels"]} is none of the published sizes '
        f'({names})')


def _trained_md_r(meta, size):
    """The NMF rank the original trained with: from the config text in the
    checkpoint's meta where there is one, else the size's."""
    config = (meta or {}).get('config')
    if not isinstance(config, str):
        return SEGNEXT_FACEPARSER_SIZES[size]['md_r']
    match = _MD_R.search(config)
    return int(match[1]) if match else 64


def convert_segnext_faceparser(checkpoint, target_classes):
    """Map a SegNeXt-FaceParser checkpoint to our MSCAN + LightHamHead.

    Args:
        checkpoint (dict): The original file's content: ``{'meta',
            'state_dict', 'optimizer'}`` or a bare state dict (optionally
            with a ``module.`` prefix). The optimizer state is dropped.
        target_classes (Sequence[str]): Class names in the wanted order.

    Returns:
        tuple[OrderedDict, dict]: Our state dict, and ``dict(size=...,
        md_r=..., original_outputs=...)`` describing the source.

    Raises:
        ValueError: If the weights are no published SegNeXt size, hold keys
            outside the backbone and decode head, have a classifier of
            neither 19 nor 150 outputs, or were trained with another NMF
            rank than our config of that size uses.
    """
    from mmseg_face.models.decode_heads.light_ham_head import NMF2D
    meta = checkpoint.get('meta') if 'state_dict' in checkpoint else None
    state_dict = _unwrapped(checkpoint)
    for key in state_dict:
        if not key.startswith(('backbone.', 'decode_head.')):
            raise ValueError(f'unexpected key {key!r} in a SegNeXt-'
                             'FaceParser checkpoint (expected backbone. and '
                             'decode_head. only)')
    size = _architecture(state_dict)
    spec = SEGNEXT_FACEPARSER_SIZES[size]
    md_r = _trained_md_r(meta, size)
    if md_r != spec['md_r']:
        raise ValueError(
            f'its config trained the {spec["name"]} model with MD_R={md_r}; '
            f'{SEGNEXT_FACEPARSER_CONFIGS[size]} uses MD_R={spec["md_r"]}')
    classes = [CLASS_NAME_FIXES.get(name, name)
               for name in SEGNEXT_FACEPARSER_CLASSES]
    weight = state_dict.get(f'{_CLASSIFIER}.weight')
    outputs = None if weight is None else int(weight.shape[0])
    if outputs not in (len(classes), ADE20K_OUTPUTS):
        raise ValueError(
            f'{_CLASSIFIER}: expected a classifier of {len(classes)} '
            f'outputs (or {ADE20K_OUTPUTS}, of which the first '
            f'{len(classes)} are kept), got {outputs}')
    perm = class_permutation(classes, target_classes)
    converted = OrderedDict(state_dict)
    for name in ('weight', 'bias'):
        key = f'{_CLASSIFIER}.{name}'
        converted[key] = state_dict[key][:len(classes)][perm].clone()
    # The bases our head evaluates with: its own seeded draw.
    converted[_BASES_KEY] = NMF2D(spec['channels'], md_r=md_r).fixed_bases
    return converted, dict(size=size, md_r=md_r, original_outputs=outputs)


def convert_segnext_faceparser_file(src, dst):
    """Convert a published SegNeXt-FaceParser file to an mmseg_face
    checkpoint.

    What ``tools/model_converters/segnext_faceparser.py SRC DST`` does:
    reads ``segnext.{tiny,small,base,large}.best_mIoU_iter_*.pth`` (see
    :func:`convert_segnext_faceparser`), checks the result against the
    config of its size (:data:`SEGNEXT_FACEPARSER_CONFIGS`) and writes it
    with ``CLASSES``, ``PALETTE``, the config and the source (project, file,
    sha256, original class order, original classifier outputs) in its meta.

    Args:
        src (str): The original file.
        dst (str): The converted checkpoint, written atomically.

    Returns:
        str: A one-line summary of what was written.

    Raises:
        FileNotFoundError: If ``src`` does not exist.
        CheckpointError: If ``src`` is not a usable SegNeXt-FaceParser
            checkpoint (the message names it).
    """
    from mmseg_face.datasets import CelebAMaskHQDataset

    from .checkpoint import CheckpointError, load_from_local
    from .checkpoint_converters import save_converted_checkpoint
    checkpoint = load_from_local(src, map_location='cpu')
    try:
        state_dict, source = convert_segnext_faceparser(
            checkpoint, CelebAMaskHQDataset.CLASSES)
    except (KeyError, ValueError) as error:
        raise CheckpointError(src, error.args[0]) from error
    name = SEGNEXT_FACEPARSER_SIZES[source['size']]['name']
    save_converted_checkpoint(
        state_dict, src, dst, SEGNEXT_FACEPARSER_CONFIGS[source['size']],
        CelebAMaskHQDataset,
        dict(project=_PROJECT, original_classes=SEGNEXT_FACEPARSER_CLASSES,
             original_outputs=source['original_outputs'],
             md_r=source['md_r']),
        converter='tools/model_converters/segnext_faceparser.py')
    sliced = (f', classifier sliced {source["original_outputs"]} -> '
              f'{len(CelebAMaskHQDataset.CLASSES)}'
              if source['original_outputs'] == ADE20K_OUTPUTS else '')
    return (f'wrote {len(state_dict)} tensors (SegNeXt-{name}, MD_R='
            f'{source["md_r"]}{sliced}) to {dst}')
