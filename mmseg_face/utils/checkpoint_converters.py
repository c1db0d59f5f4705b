"""Rename the keys of original-repo checkpoints to mmseg_face modules."""
import hashlib
import os.path as osp
import re
from collections import OrderedDict

# The repository root, which holds ``local_configs/`` (the package is
# installed in place, ``pip install -e .``).
PROJECT_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# CE2P/EAGRNet deep stem (three 3x3 convs) -> mmseg ResNet(deep_stem=True).
_CE2P_STEM = {'conv1': 'stem.0', 'bn1': 'stem.1', 'conv2': 'stem.3',
              'bn2': 'stem.4', 'conv3': 'stem.6', 'bn3': 'stem.7'}


def convert_ce2p_resnet(state_dict):
    """Map a CE2P-style deep-stem ImageNet ResNet to mmseg's ``ResNet`` keys.

    The original EAGRNet initialises from CE2P's ``resnet101-imagenet.pth``,
    whose stem is ``conv1/bn1 .. conv3/bn3``; mmseg's ``ResNet(deep_stem=
    True, stem_channels=128)`` names the same layers ``stem.0/1, 3/4, 6/7``.
    Residual layers share torchvision's names; the classifier is dropped.

    Args:
        state_dict (dict): The checkpoint's tensors, optionally under
            ``state_dict`` and with a ``module.`` prefix.

    Returns:
        OrderedDict: Backbone keys for ``init_cfg=dict(type='Pretrained')``.
    """
    state_dict = state_dict.get('state_dict', state_dict)
    converted = OrderedDict()
    for key, value in state_dict.items():
        key = re.sub(r'^module\.', '', key)
        if key.startswith('fc.'):
            continue
        head, _, rest = key.partition('.')
        if head in _CE2P_STEM:
            key = f'{_CE2P_STEM[head]}.{rest}'
        elif not re.match(r'layer[1-4]\.', key):
            raise KeyError(f'unexpected key {key!r} in a CE2P ResNet '
                           'checkpoint (expected conv1-3, bn1-3, layer1-4, fc)')
        converted[key] = value
    return converted


def resnet_depth(state_dict, prefix=''):
    """Depth of the mmseg ``ResNet`` whose converted keys follow ``prefix``.

    The depth follows from the blocks per stage (and the block type: only
    bottlenecks have ``conv3``), as in ``ResNet.arch_settings``.

    Args:
        state_dict (dict): Converted keys (``<prefix>layer1-4.*``).
        prefix (str): Key prefix of the ResNet. Default: ''.

    Returns:
        int: The depth.

    Raises:
        ValueError: If the blocks match no ResNet depth.
    """
    from mmseg.models.backbones import ResNet
    from mmseg.models.backbones.resnet import Bottleneck
    blocks = tuple(
        len({key[len(prefix):].split('.')[1] for key in state_dict
             if key.startswith(f'{prefix}layer{stage}.')})
        for stage in range(1, 5))
    bottleneck = f'{prefix}layer1.0.conv3.weight' in state_dict
    for depth, (block, stage_blocks) in ResNet.arch_settings.items():
        if tuple(stage_blocks) == blocks and \
                (block is Bottleneck) == bottleneck:
            return depth
    depths = ', '.join(map(str, ResNet.arch_settings))
    raise ValueError(f'layer1-4 hold {blocks} blocks, which no ResNet depth '
                     f'of mmseg has ({depths})')


def deep_stem_resnet_config(state_dict):
    """The mmseg ``ResNet`` config that converted CE2P weights are for.

    Args:
        state_dict (dict): Converted keys (``stem.*``, ``layer1-4.*``).

    Returns:
        dict: Backbone config for ``build_backbone``.

    Raises:
        ValueError: If the blocks match no ResNet depth.
    """
    return dict(type='ResNet', depth=resnet_depth(state_dict),
                deep_stem=True, stem_channels=128, style='pytorch')


def file_sha256(path, chunk_size=1 << 20):
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for chunk in iter(lambda: file.read(chunk_size), b''):
            digest.update(chunk)
    return digest.hexdigest()


def class_permutation(source_classes, target_classes):
    """Source index of each target class, matched by name.

    Args:
        source_classes (Sequence[str]): Class names in the original order.
        target_classes (Sequence[str]): The same names in the wanted order.

    Returns:
        list[int]: ``perm`` with ``target[c] == source[perm[c]]``; indexing
        the output-channel rows of a classifier with it reorders its logits.
    """
    if sorted(source_classes) != sorted(target_classes):
        raise ValueError(f'class lists differ: {sorted(source_classes)} vs '
                         f'{sorted(target_classes)}')
    return [list(source_classes).index(name) for name in target_classes]


def _unwrapped(state_dict):
    """The tensors of a checkpoint, without a ``state_dict`` wrapper or the
    ``module.`` prefix of (Distributed)DataParallel."""
    state_dict = state_dict.get('state_dict', state_dict)
    return OrderedDict((re.sub(r'^module\.', '', key), value)
                       for key, value in state_dict.items())


# Class order of face-parsing.PyTorch's prepropess_data.py (shared by
# facexlib and yakhyo/face-parsing): background, then its 18 part names.
ZLL_CLASSES = ('background', 'skin', 'l_brow', 'r_brow', 'l_eye', 'r_eye',
               'eye_g', 'l_ear', 'r_ear', 'ear_r', 'nose', 'mouth', 'u_lip',
               'l_lip', 'neck', 'neck_l', 'cloth', 'hair', 'hat')

# (original key prefix, our key prefix), zll/facexlib and yakhyo layouts.
_FACE_BISENET_PREFIXES = {
    'zll': [
        ('cp.resnet.', 'backbone.context_path.backbone.'),
        ('cp.arm{k}.conv.', 'backbone.context_path.arm{k}.conv_layer.'),
        ('cp.arm{k}.conv_atten.',
         'backbone.context_path.arm{k}.atten_conv_layer.1.conv.'),
        ('cp.arm{k}.bn_atten.',
         'backbone.context_path.arm{k}.atten_conv_layer.1.bn.'),
        ('cp.conv_head{k}.', 'backbone.context_path.conv_head{k}.'),
        ('cp.conv_avg.', 'backbone.context_path.gap_conv.1.'),
        ('ffm.convblk.', 'backbone.ffm.fuse.'),
        ('ffm.conv1.', 'backbone.ffm.gate.1.'),
        ('ffm.conv2.', 'backbone.ffm.gate.3.'),
        ('conv_out.conv.', 'decode_head.convs.0.'),
        ('conv_out.conv_out.', 'decode_head.conv_seg.'),
        ('conv_out16.conv.', 'auxiliary_head.0.convs.0.'),
        ('conv_out16.conv_out.', 'auxiliary_head.0.conv_seg.'),
        ('conv_out32.conv.', 'auxiliary_head.1.convs.0.'),
        ('conv_out32.conv_out.', 'auxiliary_head.1.conv_seg.'),
    ],
    'yakhyo': [
        ('fpn.backbone.', 'backbone.context_path.backbone.'),
        ('fpn.arm{k}.conv_block.',
         'backbone.context_path.arm{k}.conv_layer.'),
        ('fpn.arm{k}.attention.0.',
         'backbone.context_path.arm{k}.atten_conv_layer.1.conv.'),
        ('fpn.arm{k}.attention.1.',
         'backbone.context_path.arm{k}.atten_conv_layer.1.bn.'),
        ('fpn.conv_head{k}.', 'backbone.context_path.conv_head{k}.'),
        ('fpn.conv_avg.', 'backbone.context_path.gap_conv.1.'),
        ('ffm.conv_block.', 'backbone.ffm.fuse.'),
        ('ffm.conv1.', 'backbone.ffm.gate.1.'),
        ('ffm.conv2.', 'backbone.ffm.gate.3.'),
        ('conv_out.conv_block.', 'decode_head.convs.0.'),
        ('conv_out.conv.', 'decode_head.conv_seg.'),
        ('conv_out16.conv_block.', 'auxiliary_head.0.convs.0.'),
        ('conv_out16.conv.', 'auxiliary_head.0.conv_seg.'),
        ('conv_out32.conv_block.', 'auxiliary_head.1.convs.0.'),
        ('conv_out32.conv.', 'auxiliary_head.1.conv_seg.'),
    ],
}
_CLASSIFIERS = ('decode_head.conv_seg', 'auxiliary_head.0.conv_seg',
                'auxiliary_head.1.conv_seg')


def _face_bisenet_layout(keys):
    if any(key.startswith('cp.') for key in keys):
        return 'zll'
    if any(key.startswith('fpn.') for key in keys):
        return 'yakhyo'
    raise ValueError(
        'not a face BiSeNet checkpoint: expected keys under cp. '
        '(face-parsing.PyTorch, facexlib) or fpn. (yakhyo)')


def convert_face_bisenet(state_dict, target_classes):
    """Map a published face BiSeNet to :class:`FaceBiSeNet` + FCN heads.

    Reads face-parsing.PyTorch's ``79999_iter.pth`` (= facexlib's
    ``parsing_bisenet.pth``) and yakhyo/face-parsing's ``resnet18.pt`` /
    ``resnet34.pt``. Keys are renamed; yakhyo's unused ImageNet ``fc`` is
    dropped; the bias-free original classifiers get zero biases (mmseg's
    ``conv_seg`` has one); and the output channels of all three classifiers
    are reordered from the original (zll) class order to
    ``target_classes``, which leaves the logits exact up to that order.

    Args:
        state_dict (dict): The original tensors, optionally under
            ``state_dict`` and with a ``module.`` prefix.
        target_classes (Sequence[str]): Class names in the wanted order
            (the same 19 names as :data:`ZLL_CLASSES`).

    Returns:
        tuple[OrderedDict, dict]: Our state dict, and ``dict(layout=...,
        depth=...)`` describing the source.

    Raises:
        ValueError: If the keys are not of either layout, or the ResNet is of
            no mmseg depth.
    """
    state_dict = _unwrapped(state_dict)
    layout = _face_bisenet_layout(state_dict)
    prefixes = [(src.format(k=k), dst.format(k=k))
                for src, dst in _FACE_BISENET_PREFIXES[layout]
                for k in ((16, 32) if '{k}' in src else (None,))]
    converted = OrderedDict()
    for key, value in state_dict.items():
        if layout == 'yakhyo':
            if key.startswith('fpn.backbone.fc.'):
                continue
            if not key.startswith('fpn.backbone.'):
                # yakhyo names the BN of its conv-BN-ReLU blocks ``norm``.
                key = key.replace('.norm.', '.bn.')
        for src, dst in prefixes:
            if key.startswith(src):
                converted[dst + key[len(src):]] = value
                break
        else:
            raise ValueError(
                f'unexpected key {key!r} in a {layout} face BiSeNet '
                'checkpoint')
    perm = class_permutation(ZLL_CLASSES, target_classes)
    for name in _CLASSIFIERS:
        weight = converted.get(f'{name}.weight')
        if weight is None or weight.shape[0] != len(ZLL_CLASSES):
            raise ValueError(
                f'{name}: expected a {len(ZLL_CLASSES)}-class classifier '
                'weight in the face BiSeNet checkpoint')
        converted[f'{name}.weight'] = weight[perm].clone()
        converted[f'{name}.bias'] = weight.new_zeros(weight.shape[0])
    depth = resnet_depth(converted, 'backbone.context_path.backbone.')
    return converted, dict(layout=layout, depth=depth)



# Config of a converted face BiSeNet, by ResNet depth (relative to
# PROJECT_ROOT, as the converted checkpoint's meta records it).
FACE_BISENET_CONFIGS = {
    depth: 'local_configs/face_bisenet/'
    f'face_bisenet_r{depth}_8x2_448x448_80k_celebamask-hq.py'
    for depth in (18, 34)
}
_FACE_BISENET_PROJECTS = {
    'zll': 'zllrunning/face-parsing.PyTorch (also facexlib '
           'parsing_bisenet.pth)',
    'yakhyo': 'yakhyo/face-parsing',
}


def save_converted_checkpoint(state_dict, src, dst, config, dataset, source,
                              converter):
    """Check converted weights against their config's model and save them.

    Args:
        state_dict (dict): The converted weights.
        src (str): The original file (its name and sha256 go in the meta).
        dst (str): Output checkpoint, written atomically.
        config (str): Config path relative to :data:`PROJECT_ROOT`.
        dataset (type): Dataset class whose ``CLASSES``/``PALETTE`` the
            model predicts.
        source (dict): Meta about the original (``project``,
            ``original_classes``, ...).
        converter (str): The converter tool, for the meta.

    Raises:
        CheckpointMismatchError: If the weights do not fit the model.
    """
    from mmcv import Config
    from mmcv.cnn.utils import revert_sync_batchnorm
    from mmseg.models import build_segmentor

    from .checkpoint import check_fit, save_weights
    model = build_segmentor(
        Config.fromfile(osp.join(PROJECT_ROOT, config)).model)
    check_fit(revert_sync_batchnorm(model), state_dict, src)
    meta = dict(
        CLASSES=dataset.CLASSES,
        PALETTE=dataset.PALETTE,
        config=config,
        source=dict(source, file=osp.basename(src), sha256=file_sha256(src)),
        converter=converter)
    save_weights(state_dict, dst, meta=meta)


def convert_face_bisenet_file(src, dst):
    """Convert a published face BiSeNet file to an mmseg_face checkpoint.

    What ``tools/model_converters/face_bisenet.py SRC DST`` does: reads
    ``79999_iter.pth`` / ``parsing_bisenet.pth`` / yakhyo's ``resnet18.pt``
    or ``resnet34.pt`` (see :func:`convert_face_bisenet`), checks the result
    against the config of its depth (:data:`FACE_BISENET_CONFIGS`) and
    writes it with ``CLASSES``, ``PALETTE``, the config and the source
    (project, file, sha256, original class order) in its meta.

    Args:
        src (str): The original file.
        dst (str): The converted checkpoint, written atomically.

    Returns:
        str: A one-line summary of what was written.

    Raises:
        FileNotFoundError: If ``src`` does not exist.
        CheckpointError: If ``src`` is not a usable face BiSeNet checkpoint
            (the message names it).
    """
    from mmseg_face.datasets import CelebAMaskHQDataset

    from .checkpoint import CheckpointError, load_from_local
    try:
        state_dict, source = convert_face_bisenet(
            load_from_local(src, map_location='cpu'),
            CelebAMaskHQDataset.CLASSES)
        config = FACE_BISENET_CONFIGS.get(source['depth'])
        if config is None:
            raise ValueError(f'a ResNet-{source["depth"]} face BiSeNet has '
                             'no config (ResNet-18 and -34 do)')
    except (KeyError, ValueError) as error:
        raise CheckpointError(src, error.args[0]) from error
    save_converted_checkpoint(
        state_dict, src, dst, config, CelebAMaskHQDataset,
        dict(project=_FACE_BISENET_PROJECTS[source['layout']],
             original_classes=ZLL_CLASSES),
        converter='tools/model_converters/face_bisenet.py')
    return (f'wrote {len(state_dict)} tensors (ResNet-{source["depth"]}, '
            f'{source["layout"]} layout) to {dst}')


# Class order of GPEN's face_parse/face_parsing.py (= PSFR-GAN, facexlib):
# already the official CelebAMask-HQ order.
PARSENET_CLASSES = ('background', 'skin', 'nose', 'eye_g', 'l_eye', 'r_eye',
                    'l_brow', 'r_brow', 'l_ear', 'r_ear', 'mouth', 'u_lip',
                    'l_lip', 'hair', 'hat', 'ear_r', 'neck_l', 'neck',
                    'cloth')
_PARSENET_PREFIXES = (('encoder.', 'backbone.encoder.'),
                      ('body.', 'backbone.body.'),
                      ('decoder.', 'backbone.decoder.'),
                      ('out_mask_conv.', 'decode_head.conv_seg.'),
                      ('out_img_conv.', 'decode_head.conv_img.'))
# GPEN's ConvLayer holds ``conv2d`` and ``norm`` (a NormLayer around
# ``norm``); mmcv's ConvModule names them ``conv`` and ``bn``.
_PARSENET_MODULE = re.compile(
    r'^((?:\d+\.)?(?:(?:shortcut_func|conv1|conv2)\.)?)'
    r'(conv2d|norm\.norm)\.(\w+)$')


def convert_parsenet(state_dict, target_classes):
    """Map GPEN's ParseNet to :class:`ParseNet` + :class:`ParseNetHead`.

    Reads GPEN's ``ParseNet-latest.pth`` (the same network as facexlib's and
    CodeFormer's ``parsing_parsenet.pth``, from PSFR-GAN). Keys are renamed
    (``conv2d`` -> ``conv``, ``norm.norm`` -> ``bn``, ``shortcut_func`` ->
    ``shortcut``; ``out_mask_conv`` becomes the classifier, ``out_img_conv``
    the restored-image layer); the values are unchanged except that the
    classifier's output channels follow ``target_classes``, which for the
    official CelebAMask-HQ order is the identity.

    Args:
        state_dict (dict): The original tensors, optionally under
            ``state_dict`` and with a ``module.`` prefix.
        target_classes (Sequence[str]): Class names in the wanted order
            (the same 19 names as :data:`PARSENET_CLASSES`).

    Returns:
        OrderedDict: Our state dict.

    Raises:
        ValueError: If the keys are not GPEN's ParseNet layout or the
            classifier has not 19 outputs.
    """
    state_dict = _unwrapped(state_dict)
    if not any(key.startswith('out_mask_conv.') for key in state_dict):
        raise ValueError(
            'not a GPEN/facexlib ParseNet checkpoint: expected keys under '
            'encoder., body., decoder., out_mask_conv. and out_img_conv.')
    converted = OrderedDict()
    for key, value in state_dict.items():
        for src, dst in _PARSENET_PREFIXES:
            match = key.startswith(src) and \
                _PARSENET_MODULE.match(key[len(src):])
            if match:
                block, module, name = match.groups()
                block = block.replace('shortcut_func.', 'shortcut.')
                module = 'conv' if module == 'conv2d' else 'bn'
                converted[f'{dst}{block}{module}.{name}'] = value
                break
        else:
            raise ValueError(
                f'unexpected key {key!r} in a GPEN ParseNet checkpoint')
    weight = converted.get('decode_head.conv_seg.conv.weight')
    if weight is None or weight.shape[0] != len(PARSENET_CLASSES):
        raise ValueError(
            f'out_mask_conv: expected a {len(PARSENET_CLASSES)}-class '
            'classifier weight in the ParseNet checkpoint')
    perm = class_permutation(PARSENET_CLASSES, target_classes)
    for name in ('weight', 'bias'):
        key = f'decode_head.conv_seg.conv.{name}'
        converted[key] = converted[key][perm].clone()
    return converted


# Config of the converted GPEN ParseNet (relative to PROJECT_ROOT, as the
# converted checkpoint's meta records it).
PARSENET_CONFIG = \
    'local_configs/parsenet/parsenet_gpen_512x512_celebamask-hq.py'
_PARSENET_PROJECT = ('yangxy/GPEN face_parse (also facexlib and CodeFormer '
                     'parsing_parsenet.pth; from chaofengc/PSFRGAN)')


def convert_parsenet_file(src, dst):
    """Convert GPEN's / facexlib's ParseNet file to an mmseg_face checkpoint.

    What ``tools/model_converters/parsenet.py SRC DST`` does: reads
    ``ParseNet-latest.pth`` / ``parsing_parsenet.pth`` (see
    :func:`convert_parsenet`), checks the result against
    :data:`PARSENET_CONFIG` and writes it with ``CLASSES``, ``PALETTE``, the
    config and the source (project, file, sha256, original class order) in
    its meta.

    Args:
        src (str): The original file.
        dst (str): The converted checkpoint, written atomically.

    Returns:
        str: A one-line summary of what was written.

    Raises:
        FileNotFoundError: If ``src`` does not exist.
        CheckpointError: If ``src`` is not a usable ParseNet checkpoint (the
            message names it).
    """
    from mmseg_face.datasets import CelebAMaskHQDataset

    from .checkpoint import CheckpointError, load_from_local
    try:
        state_dict = convert_parsenet(
            load_from_local(src, map_location='cpu'),
            CelebAMaskHQDataset.CLASSES)
    except (KeyError, ValueError) as error:
        raise CheckpointError(src, error.args[0]) from error
    save_converted_checkpoint(
        state_dict, src, dst, PARSENET_CONFIG, CelebAMaskHQDataset,
        dict(project=_PARSENET_PROJECT, original_classes=PARSENET_CLASSES),
        converter='tools/model_converters/parsenet.py')
    return f'wrote {len(state_dict)} tensors (GPEN ParseNet) to {dst}'
