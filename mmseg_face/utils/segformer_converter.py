"""Convert the Hugging Face SegFormer face parser (jonathandinu/face-parsing)
to :class:`SDPAMixVisionTransformer` + :class:`SegformerMLPHead`."""
import json
import os.path as osp
import re
import struct
from collections import OrderedDict

import torch

from .checkpoint import checkpoint_state_dict
from .checkpoint_converters import class_permutation, save_converted_checkpoint

# Config of the converted model (relative to PROJECT_ROOT, as the converted
# checkpoint's meta records it).
SEGFORMER_FACE_CONFIG = ('local_configs/segformer/'
                         'segformer_mlp_mit-b5_8x2_512x512_160k_celebamask-hq.py')
SEGFORMER_FACE_PROJECT = 'jonathandinu/face-parsing (Hugging Face hub)'
# id2label of the model's config.json since its "Fix labels" change
# (2024-01): the official CelebAMask-HQ order. The earlier labels were
# metadata only; the weights did not change.
SEGFORMER_FACE_CLASSES = ('background', 'skin', 'nose', 'eye_g', 'l_eye',
                          'r_eye', 'l_brow', 'r_brow', 'l_ear', 'r_ear',
                          'mouth', 'u_lip', 'l_lip', 'hair', 'hat', 'ear_r',
                          'neck_l', 'neck', 'cloth')

_BLOCK = r'segformer\.encoder\.block\.(\d+)\.(\d+)\.'
# (original key pattern, our key template) of the transformers layout.
_RENAMES = [
    (r'segformer\.encoder\.patch_embeddings\.(\d+)\.proj\.',
     'backbone.layers.{0}.0.projection.'),
    (r'segformer\.encoder\.patch_embeddings\.(\d+)\.layer_norm\.',
     'backbone.layers.{0}.0.norm.'),
    (_BLOCK + r'layer_norm_1\.', 'backbone.layers.{0}.1.{1}.norm1.'),
    (_BLOCK + r'attention\.self\.sr\.', 'backbone.layers.{0}.1.{1}.attn.sr.'),
    (_BLOCK + r'attention\.self\.layer_norm\.',
     'backbone.layers.{0}.1.{1}.attn.norm.'),
    (_BLOCK + r'attention\.output\.dense\.',
     'backbone.layers.{0}.1.{1}.attn.attn.out_proj.'),
    (_BLOCK + r'layer_norm_2\.', 'backbone.layers.{0}.1.{1}.norm2.'),
    # The Mix-FFN's linear layers are 1x1 convolutions in mmseg.
    (_BLOCK + r'mlp\.dense1\.', 'backbone.layers.{0}.1.{1}.ffn.layers.0.'),
    (_BLOCK + r'mlp\.dwconv\.dwconv\.',
     'backbone.layers.{0}.1.{1}.ffn.layers.1.'),
    (_BLOCK + r'mlp\.dense2\.', 'backbone.layers.{0}.1.{1}.ffn.layers.4.'),
    (r'segformer\.encoder\.layer_norm\.(\d+)\.', 'backbone.layers.{0}.2.'),
    (r'decode_head\.linear_c\.(\d+)\.proj\.',
     'decode_head.linear_projections.{0}.'),
    (r'decode_head\.linear_fuse\.', 'decode_head.fuse.conv.'),
    (r'decode_head\.batch_norm\.', 'decode_head.fuse.bn.'),
    (r'decode_head\.classifier\.', 'decode_head.conv_seg.'),
]
_RENAMES = [(re.compile(pattern), template) for pattern, template in _RENAMES]
# q, k and v: concatenated into nn.MultiheadAttention's in_proj.
_QKV = re.compile(_BLOCK + r'attention\.self\.(query|key|value)\.'
                  r'(weight|bias)$')
_FFN_LINEAR = re.compile(r'\.ffn\.layers\.[04]\.weight$')


def convert_segformer_faceparser(state_dict, target_classes):
    """Map the transformers ``SegformerForSemanticSegmentation`` layout (as
    the hub's ``model.safetensors`` / ``pytorch_model.bin`` hold it) to ours.

    Keys are renamed; each block's query, key and value are concatenated
    into ``attn.attn.in_proj_{weight,bias}``; the Mix-FFN's linear weights
    become 1x1 convolution weights; the classifier's output channels are
    reordered from :data:`SEGFORMER_FACE_CLASSES` to ``target_classes``
    (matched by name; for the official CelebAMask-HQ order the identity).
    The values are otherwise unchanged, so the logits are the original's.

    Args:
        state_dict (dict): The original tensors, optionally under
            ``state_dict`` and with a ``module.`` prefix.
        target_classes (Sequence[str]): Class names in the wanted order
            (the same 19 names).

    Returns:
        OrderedDict: Our state dict.

    Raises:
        ValueError: If the keys are not of that layout, a block lacks its
            query, key or value, or the classifier has not 19 outputs.
    """
    state_dict = checkpoint_state_dict(state_dict)
    if not any(key.startswith('segformer.encoder.') for key in state_dict) \
            or 'decode_head.classifier.weight' not in state_dict:
        raise ValueError(
            'not a Hugging Face SegformerForSemanticSegmentation checkpoint: '
            'expected keys under segformer.encoder. and decode_head. '
            '(classifier, linear_c, linear_fuse, batch_norm)')
    converted = OrderedDict()
    qkv = {}
    for key, value in state_dict.items():
        match = _QKV.match(key)
        if match:
            stage, block, part, name = match.groups()
            qkv.setdefault((stage, block, name), {})[part] = value
            continue
        for pattern, template in _RENAMES:
            match = pattern.match(key)
            if match:
                ours = template.format(*match.groups()) + key[match.end():]
                if _FFN_LINEAR.search(ours):
                    value = value[:, :, None, None]
                converted[ours] = value
                break
        else:
            raise ValueError(f'unexpected key {key!r} in a Hugging Face '
                             'SegFormer checkpoint')
    for (stage, block, name), parts in qkv.items():
        missing = [part for part in ('query', 'key', 'value')
                   if part not in parts]
        if missing:
            raise ValueError(
                f'segformer.encoder.block.{stage}.{block}.attention.self: '
                f'the {name} of {" and ".join(missing)} is missing')
        converted[f'backbone.layers.{stage}.1.{block}.attn.attn.'
                  f'in_proj_{name}'] = torch.cat(
                      [parts['query'], parts['key'], parts['value']])
    weight = converted['decode_head.conv_seg.weight']
    if weight.shape[0] != len(SEGFORMER_FACE_CLASSES):
        raise ValueError(
            f'decode_head.classifier: expected a {len(SEGFORMER_FACE_CLASSES)}'
            f'-class classifier, found {weight.shape[0]} outputs')
    perm = class_permutation(SEGFORMER_FACE_CLASSES, target_classes)
    for name in ('weight', 'bias'):
        key = f'decode_head.conv_seg.{name}'
        converted[key] = converted[key][perm].clone()
    return converted


def _is_safetensors(path):
    """A safetensors file starts with its header's length (8 bytes, little
    endian) and the header, a JSON object."""
    with open(path, 'rb') as file:
        head = file.read(9)
    return len(head) == 9 and head[8:] == b'{' and \
        struct.unpack('<Q', head[:8])[0] < osp.getsize(path)


def load_hf_weights(path):
    """The tensors of a Hugging Face weights file, ``model.safetensors`` or
    ``pytorch_model.bin`` (told apart by content, not name).

    Raises:
        FileNotFoundError: If there is no such file.
        CheckpointError: If it is neither a readable safetensors file nor a
            usable PyTorch checkpoint (the message names it).
    """
    from .checkpoint import CheckpointError, load_from_local
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    if not _is_safetensors(path):
        return load_from_local(path, map_location='cpu')
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    try:
        return load_file(path, device='cpu')
    except (SafetensorError, json.JSONDecodeError) as error:
        raise CheckpointError(
            path, f'damaged safetensors file ({error})') from error


def convert_segformer_faceparser_file(src, dst):
    """Convert jonathandinu/face-parsing to an mmseg_face checkpoint.

    What ``tools/model_converters/segformer_faceparser.py SRC DST`` does:
    reads ``model.safetensors`` or ``pytorch_model.bin`` (see
    :func:`convert_segformer_faceparser`), checks the result against
    :data:`SEGFORMER_FACE_CONFIG` and writes it with ``CLASSES``,
    ``PALETTE``, the config and the source (project, file, sha256, original
    class order) in its meta.

    Args:
        src (str): The original file.
        dst (str): The converted checkpoint, written atomically.

    Returns:
        str: A one-line summary of what was written.

    Raises:
        FileNotFoundError: If ``src`` does not exist.
        CheckpointError: If ``src`` is not a usable checkpoint of the model
            (the message names it).
    """
    from mmseg_face.datasets import CelebAMaskHQDataset

    from .checkpoint import CheckpointError
    try:
        state_dict = convert_segformer_faceparser(
            load_hf_weights(src), CelebAMaskHQDataset.CLASSES)
    except (KeyError, ValueError) as error:
        raise CheckpointError(src, error.args[0]) from error
    save_converted_checkpoint(
        state_dict, src, dst, SEGFORMER_FACE_CONFIG, CelebAMaskHQDataset,
        dict(project=SEGFORMER_FACE_PROJECT,
             original_classes=SEGFORMER_FACE_CLASSES),
        converter='tools/model_converters/segformer_faceparser.py')
    return (f'wrote {len(state_dict)} tensors (SegFormer-B5, Hugging Face '
            f'layout) to {dst}')
