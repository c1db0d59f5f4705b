"""Convert facer's FaRL face parsers (TorchScript) to mmseg_face checkpoints.

facer (FacePerceiver/facer) publishes FaRL's ``FaceParsingTransformer``
(FaRL ViT-B/16 + FPN + mmseg ``UPerHead``) as TorchScript archives,
``face_parsing.farl.celebm.main_ema_181500_jit.pt`` (CelebAMask-HQ, 19
classes in FaRL's order) and ``face_parsing.farl.lapa.main_ema_136500_jit191.pt``
(LaPa, 11 classes by LaPa label id). Their tensors are read with
``torch.jit.load(...).state_dict()``, renamed onto :class:`FaRLViT` +
``Feature2Pyramid`` + ``UPerHead``, and the celebm classifier's output rows
are reordered to the official CelebAMask-HQ order.
"""
import re
from collections import OrderedDict

import torch

from .checkpoint_converters import class_permutation, save_converted_checkpoint

# FaRL's CelebAMask-HQ order (farl/datasets/celebamask_hq.py, label setting
# 'all': the 'human' parts, then the 'aux' ones), in the official names.
# FaRL (and facer's label_names) call these parts by the other side
# ('rr' for l_ear, 'rb' for l_brow, ...) but read the same part files, so
# l_/r_ mean what they mean in the official order.
FARL_CELEBM_CLASSES = ('background', 'neck', 'skin', 'cloth', 'l_ear',
                       'r_ear', 'l_brow', 'r_brow', 'l_eye', 'r_eye', 'nose',
                       'mouth', 'l_lip', 'u_lip', 'hair', 'eye_g', 'hat',
                       'ear_r', 'neck_l')
# facer's farl/lapa/448 predicts LaPa's label ids: the order of
# LaPaDataset.CLASSES. (FaRL and facer disagree on the names of ids 2-5;
# the ids are what it was trained on.)
# CLIP's normalisation, which facer's network holds as buffers and our
# configs apply in the test pipeline.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

FARL_CONFIGS = {
    'celebm': 'local_configs/farl/'
    'farl_vit-b16_8x5_448x448_80k_celebamask-hq.py',
    'lapa': 'local_configs/farl/farl_vit-b16_8x5_448x448_80k_lapa.py',
}
_PROJECT = 'FacePerceiver/facer (FaRL face parsing)'

_BLOCK = 'backbone.visual.transformer.resblocks.'
# (original prefix, our prefix); block keys are handled by _BLOCK_PARTS.
_PREFIXES = (
    ('backbone.visual.conv1.', 'backbone.patch_embed.'),
    ('backbone.visual.ln_pre.', 'backbone.pre_norm.'),
    ('backbone.fpns.0.0.', 'neck.upsample_4x.0.'),
    ('backbone.fpns.0.1.', 'neck.upsample_4x.1.'),
    ('backbone.fpns.0.3.', 'neck.upsample_4x.3.'),
    ('backbone.fpns.1.', 'neck.upsample_2x.0.'),
    ('head.head.', 'decode_head.'),
)
_RENAMED = {
    'backbone.visual.class_embedding': 'backbone.cls_token',
    'backbone.visual.positional_embedding': 'backbone.pos_embed',
}
_BLOCK_PARTS = (('attn.in_proj_', 'attn.attn.in_proj_'),
                ('attn.out_proj.', 'attn.attn.out_proj.'),
                ('ln_1.', 'ln1.'), ('ln_2.', 'ln2.'),
                ('mlp.c_fc.', 'ffn.layers.0.0.'),
                ('mlp.c_proj.', 'ffn.layers.1.'))
# CLIP's pooled-embedding layers, unused by the parser.
_UNUSED = ('backbone.visual.ln_post.', 'backbone.visual.proj')
_NORMALISATION = {'backbone.image_mean': CLIP_MEAN,
                  'backbone.image_std': CLIP_STD}


def load_farl_state_dict(path):
    """The tensors of a facer FaRL file: a TorchScript archive (as facer
    publishes them) or a plain state dict (one re-saved with
    ``torch.save(net.state_dict())``).

    Raises:
        FileNotFoundError: If there is no such file.
        CheckpointError: If it is neither (the message names the file).
    """
    from .checkpoint import load_from_local
    try:
        module = torch.jit.load(path, map_location='cpu')
    except (RuntimeError, ValueError):
        return load_from_local(path, map_location='cpu')
    return OrderedDict(module.state_dict())


def _rename(key):
    if key in _RENAMED:
        return _RENAMED[key]
    match = re.match(re.escape(_BLOCK) + r'(\d+)\.(.+)$', key)
    if match:
        index, rest = match.groups()
        for src, dst in _BLOCK_PARTS:
            if rest.startswith(src):
                return f'backbone.layers.{index}.{dst}{rest[len(src):]}'
        return None
    for src, dst in _PREFIXES:
        if key.startswith(src):
            return dst + key[len(src):]
    return None


def convert_farl(state_dict, target_classes=None):
    """Map facer's FaRL parser onto FaRLViT + Feature2Pyramid + UPerHead.

    Args:
        state_dict (dict): The original tensors
            (``FaceParsingTransformer.state_dict()``).
        target_classes (Sequence[str], optional): For a 19-class (celebm)
            model, class names in the wanted order (the names of
            :data:`FARL_CELEBM_CLASSES`); the classifier rows are reordered
            to it. Ignored for the 11-class LaPa model, whose ids are kept.

    Returns:
        tuple[OrderedDict, str]: Our state dict and the model, ``'celebm'``
        or ``'lapa'``.

    Raises:
        ValueError: For keys of another layout, a classifier of neither 19
            nor 11 classes, or a normalisation other than CLIP's.
    """
    if 'head.head.conv_seg.weight' not in state_dict or \
            'backbone.visual.conv1.weight' not in state_dict:
        raise ValueError(
            'not a facer FaRL face parser: expected keys backbone.visual.* '
            '(the FaRL ViT), backbone.fpns.* and head.head.* (UPerHead)')
    converted = OrderedDict()
    for key, value in state_dict.items():
        if key in _NORMALISATION:
            expected = torch.tensor(_NORMALISATION[key])
            if not torch.allclose(value.flatten().float(), expected,
                                  atol=1e-6):
                raise ValueError(
                    f'{key} is {value.flatten().tolist()}, not CLIP\'s '
                    f'{list(_NORMALISATION[key])}, which the FaRL configs '
                    'normalise with')
            continue
        if key.startswith(_UNUSED):
            continue
        new_key = _rename(key)
        if new_key is None:
            raise ValueError(
                f'unexpected key {key!r} in a facer FaRL face parser')
        converted[new_key] = value
    num_classes = converted['decode_head.conv_seg.weight'].shape[0]
    if num_classes == len(FARL_CELEBM_CLASSES):
        model = 'celebm'
        perm = class_permutation(FARL_CELEBM_CLASSES, target_classes
                                 or FARL_CELEBM_CLASSES)
        for name in ('weight', 'bias'):
            key = f'decode_head.conv_seg.{name}'
            converted[key] = converted[key][perm].clone()
    elif num_classes == 11:
        model = 'lapa'
    else:
        raise ValueError(
            f'head.head.conv_seg has {num_classes} classes; facer\'s FaRL '
            'parsers have 19 (celebm) or 11 (lapa)')
    return converted, model


def convert_farl_file(src, dst):
    """Convert a facer FaRL file to an mmseg_face checkpoint.

    What ``tools/model_converters/farl.py SRC DST`` does: reads the
    TorchScript archive (:func:`load_farl_state_dict`), converts it
    (:func:`convert_farl`, celebm to the official CelebAMask-HQ order),
    checks the result against the config of its model
    (:data:`FARL_CONFIGS`) and writes it with ``CLASSES``, ``PALETTE``,
    the config and the source (project, file, sha256, original class
    order) in its meta.

    Args:
        src (str): The original file.
        dst (str): The converted checkpoint, written atomically.

    Returns:
        str: A one-line summary of what was written.

    Raises:
        FileNotFoundError: If ``src`` does not exist.
        CheckpointError: If ``src`` is not a usable facer FaRL parser (the
            message names it).
    """
    from mmseg_face.datasets import CelebAMaskHQDataset, LaPaDataset

    from .checkpoint import CheckpointError
    try:
        state_dict, model = convert_farl(load_farl_state_dict(src),
                                         CelebAMaskHQDataset.CLASSES)
    except (KeyError, ValueError) as error:
        raise CheckpointError(src, error.args[0]) from error
    dataset = CelebAMaskHQDataset if model == 'celebm' else LaPaDataset
    original_classes = FARL_CELEBM_CLASSES if model == 'celebm' else \
        LaPaDataset.CLASSES
    save_converted_checkpoint(
        state_dict, src, dst, FARL_CONFIGS[model], dataset,
        dict(project=_PROJECT, original_classes=original_classes),
        converter='tools/model_converters/farl.py')
    return f'wrote {len(state_dict)} tensors (FaRL {model}) to {dst}'
