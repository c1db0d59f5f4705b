"""Output parity of converted published face parsers with their original code.

For each original network the script builds it from its repository, fetched
outside this tree (``--mirror``: the folder holding ``owner+name/repo``
snapshots, as the search tool's ``fetch`` leaves them; nothing is
downloaded) or, for the Hugging Face SegFormer, from the installed
``transformers`` with the hub model's config written out here, gives it
seeded random weights and random BatchNorm statistics, saves them in the
original file format (``save_pretrained``'s ``model.safetensors`` for
transformers), converts that file with our converter tool, loads the result
into our model (``strict=True``) and compares:

(a) logits on a seeded input in eval mode, fp32: the original's main output
    against ours after undoing the class reordering, as the largest absolute
    difference divided by the largest absolute logit (limit 1e-5); the
    SegFormer's 1/4 logits are first upsampled to the input as its users
    (and ``post_process_semantic_segmentation``) do;
(b) the whole path from an image file to a label map, on generated faces:
    the original repository's own inference steps (face BiSeNets: PIL
    resize, torchvision normalisation, argmax; GPEN: its ``FaceParse``
    class, loading the saved file; SegNeXt-FaceParser: its test pipeline
    and ``simple_test`` through ``inference_segmentor``, with its NMF bases
    drawn from a seeded generator, see ``_seeded_nmf_bases``; SegFormer:
    transformers' ``SegformerImageProcessor`` with the hub's preprocessor
    config, ``from_pretrained`` on the saved folder and
    ``post_process_semantic_segmentation``) against ``FaceParser`` with the
    model's config (limit: at least 99.9% of the pixels equal). Faces drawn
    at the model's
    input size compare label maps directly; faces of other sizes compare the
    original's labels resized back with nearest neighbours, as its demo
    does, against ours (mmseg resizes logits, not labels, so boundary pixels
    may differ there; that row is reported, not held to the limit).

With ``--time`` it also times, on 2 threads at 512², batch 1, the original
as its inference code runs it (the network's forward, which computes the
main and both auxiliary outputs) against ours as ``FaceParser`` runs it
(main head only, BatchNorm folded, channels-last) and as built, taking turns
(``bench_vs_original.compare``).

With ``--write-fixtures DIR`` it also writes, per original, the key names,
shapes and dtypes of its state dict as JSON: the tests build synthetic
originals from them.

facer's FaRL parsers (``FaRL celebm/448``, ``FaRL lapa/448``) are built from
FaRL's repository (``FaceParsingTransformer`` as its ``farl.yaml`` composes
it; the pretraining file it would read is replaced by the ViT it builds),
traced with ``torch.jit.trace`` and saved as TorchScript, the format facer
releases; (a) compares the 512² logits of a 448² input; (b) runs facer's own
``FaRLFaceParser`` (loading the saved file; its warp, network and logit
paste-back) against ``FaceParser.parse_wild`` with the config's facer
preset, the same five landmarks given to both, on generated scenes of one
face, and counts equal labels over the whole image and over the pixels
either calls a face part.

Usage: ``python bench/parity_vs_original.py --mirror DIR [--models ...]
[--write-fixtures tests/data/published_checkpoints]``
"""
import argparse
import functools
import importlib
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from bench_vs_original import compare as time_sides  # noqa: E402
from bench_vs_original import git_dir  # noqa: E402

LOGIT_LIMIT = 1e-5
PIXEL_LIMIT = 0.999


def _zll_bisenet(source_dir):
    sys.path.insert(0, source_dir)
    resnet = importlib.import_module('resnet')
    # Its ResNet-18 loads ImageNet weights from the network when built.
    resnet.Resnet18.init_weight = lambda self: None
    return importlib.import_module('model').BiSeNet(19)


def _yakhyo_bisenet(source_dir, backbone):
    sys.path.insert(0, source_dir)
    bisenet = importlib.import_module('models.bisenet')
    # Its ResNets default to torchvision's ImageNet weights (a download).
    for name in ('resnet18', 'resnet34'):
        setattr(bisenet, name,
                functools.partial(getattr(bisenet, name), weights=None))
    return bisenet.BiSeNet(19, backbone_name=backbone)


def _gpen_parsenet(source_dir):
    sys.path.insert(0, osp.join(source_dir, 'face_parse'))
    # GPEN's FaceParse.load_model builds it with these arguments.
    return importlib.import_module('parse_model').ParseNet(
        512, 512, 32, 64, 19, norm_type='bn', relu_type='LeakyReLU',
        ch_range=[32, 256])


def _hf_segformer(source_dir):
    from transformers import SegformerConfig, SegformerForSemanticSegmentation
    return SegformerForSemanticSegmentation(
        SegformerConfig(**HF_FACE_PARSING_CONFIG))


def _save_torch(original, folder, file_name):
    """``torch.save`` of the state dict, as the originals publish it."""
    path = osp.join(folder, file_name)
    state_dict = original.state_dict()
    torch.save(state_dict, path)
    return path, state_dict


def _save_hf_pretrained(original, folder, file_name):
    """``save_pretrained``: ``model.safetensors`` (in the hub's key layout,
    which transformers 5 writes back from its renamed modules) and
    ``config.json``."""
    from safetensors.torch import load_file
    original.save_pretrained(folder)
    path = osp.join(folder, file_name)
    return path, load_file(path)


def _main_output(original, inputs):
    return original(inputs)[0]


def _hf_upsampled_logits(original, inputs):
    logits = original(pixel_values=inputs).logits
    return torch.nn.functional.interpolate(
        logits, size=inputs.shape[2:], mode='bilinear', align_corners=False)


def _hf_inference(original, weights):
    """transformers' own path: the image processor of the hub's
    ``preprocessor_config.json``, the model loaded from the saved folder,
    ``post_process_semantic_segmentation`` to the image's size."""
    from PIL import Image
    from transformers import (SegformerForSemanticSegmentation,
                              SegformerImageProcessor)
    processor = SegformerImageProcessor(**HF_FACE_PARSING_PREPROCESSOR)
    model = SegformerForSemanticSegmentation.from_pretrained(
        osp.dirname(weights)).eval()

    def labels(image_path):
        image = Image.open(image_path).convert('RGB')
        with torch.no_grad():
            outputs = model(**processor(images=image, return_tensors='pt'))
        return processor.post_process_semantic_segmentation(
            outputs, target_sizes=[image.size[::-1]])[0].numpy()

    return labels


def _pil_imagenet_inference(original, weights):
    return functools.partial(original_labels, original, size=512)


def _gpen_inference(original, weights):
    """GPEN's own ``FaceParse`` on the saved ``weights/<name>.pth``.

    Its colour map is made the identity, so that ``process`` (cv2 resize,
    BGR->RGB, x/255*2-1, argmax) returns class ids instead of a binary mask.
    """
    import cv2
    face_parse = importlib.import_module('face_parsing').FaceParse(
        osp.dirname(osp.dirname(weights)),
        model=osp.splitext(osp.basename(weights))[0], device='cpu')
    face_parse.MASK_COLORMAP = list(range(19))

    def labels(image_path):
        image = cv2.imread(image_path)
        with torch.no_grad():
            mask = face_parse.process(image)[0]
        return cv2.resize(mask, image.shape[1::-1],
                          interpolation=cv2.INTER_NEAREST)

    return labels


# Package name the SegNeXt-FaceParser modules are loaded under, apart from
# the installed mmseg (its ``mmseg`` is a 0.24 fork of the same name).
SEGNEXT_PACKAGE = 'segnext_faceparser_original'
SEGNEXT_SIZES = {'t': 'tiny', 's': 'small', 'b': 'base', 'l': 'large'}


def _seeded_nmf_bases(self, B, S, D, R, cuda=False):
    """Stand-in for the original ``NMF2D._build_bases``.

    The original draws ``torch.rand((B * S, D, R))`` on every forward (and
    moves it to CUDA). This draws the (S, D, R) bases from a CPU generator
    seeded with 0, L2-normalised over D and repeated for the B images:
    exactly the ``fixed_bases`` buffer our head evaluates with, so both run
    the same decomposition.
    """
    import torch.nn.functional as F
    bases = torch.rand((S, D, R), generator=torch.Generator().manual_seed(0))
    return F.normalize(bases, dim=1).repeat(B, 1, 1)


def load_segnext_original(source_dir, package=SEGNEXT_PACKAGE):
    """The original ``EncoderDecoder``, ``MSCAN`` and ``LightHamHead`` of a
    SegNeXt repository (official or SegNeXt-FaceParser), from its files, in
    a registry of their own; returns the registry and the ``ham_head``
    module.

    Its ``mmseg/models/{segmentors,backbones,decode_heads}`` files are loaded
    as ``<package>.*``; what they import relatively from ``..builder``
    and ``..losses`` comes from a stand-in with a fresh registry and the
    installed mmseg 0.30's ``build_loss`` and ``accuracy`` (``mscan.py``
    imports ``mmseg.models.builder.BACKBONES`` absolutely: that name points
    at the fresh registry while it is imported). Everything else they import
    is the installed mmseg/mmcv.
    """
    import types

    import mmseg.models.builder as installed_builder
    from mmcv.utils import Registry
    if f'{package}.builder' in sys.modules:
        return (sys.modules[f'{package}.builder'].MODELS,
                sys.modules[f'{package}.decode_heads.ham_head'])
    models_dir = osp.join(source_dir, 'mmseg', 'models')
    registry = Registry(f'{package} models')
    builder = types.ModuleType(f'{package}.builder')
    builder.MODELS = builder.BACKBONES = builder.HEADS = builder.NECKS = \
        builder.SEGMENTORS = registry
    builder.build_backbone = builder.build_head = builder.build_neck = \
        registry.build
    builder.build_loss = installed_builder.build_loss
    root = types.ModuleType(package)
    root.__path__ = [models_dir]
    root.builder = builder
    sys.modules[package] = root
    sys.modules[builder.__name__] = builder
    sys.modules[f'{package}.losses'] = importlib.import_module(
        'mmseg.models.losses')
    for folder in ('segmentors', 'backbones', 'decode_heads'):
        subpackage = types.ModuleType(f'{package}.{folder}')
        subpackage.__path__ = [osp.join(models_dir, folder)]
        sys.modules[subpackage.__name__] = subpackage
    installed_backbones = installed_builder.BACKBONES
    installed_builder.BACKBONES = registry
    try:
        importlib.import_module(f'{package}.backbones.mscan')
    finally:
        installed_builder.BACKBONES = installed_backbones
    ham_head = importlib.import_module(f'{package}.decode_heads.ham_head')
    importlib.import_module(f'{package}.segmentors.encoder_decoder')
    return registry, ham_head


def _segnext_faceparser(source_dir, size):
    """The original face config of ``size`` (its ``local_configs``), built
    with the original code; the config rides along as ``.cfg``."""
    from mmcv import Config
    from mmcv.cnn.utils import revert_sync_batchnorm
    registry, ham_head = load_segnext_original(source_dir)
    ham_head.NMF2D._build_bases = _seeded_nmf_bases
    name = SEGNEXT_SIZES[size]
    cfg = Config.fromfile(osp.join(
        source_dir, 'local_configs', 'segnext', name,
        f'segnext.{name}.512x512.celebamaskhq.160k.py'))
    model = revert_sync_batchnorm(registry.build(cfg.model))
    model.cfg = cfg
    return model


def _segnext_logits(original, inputs):
    """The original ``EncoderDecoder.encode_decode`` (logits at the input
    size, all outputs of its classifier)."""
    metas = [dict(img_shape=tuple(inputs.shape[2:]) + (3, ),
                  ori_shape=tuple(inputs.shape[2:]) + (3, ),
                  pad_shape=tuple(inputs.shape[2:]) + (3, ))] * len(inputs)
    return original.encode_decode(inputs, metas)


def shrink_layer_scales(model, factor=0.1):
    """Scale MSCAN's ``layer_scale_*`` by ``factor`` after ``randomize``.

    ``randomize`` draws these per-channel branch scales from N(0, 1), a
    hundred times their initial 0.01; over the 19 and 38 blocks of MSCAN-B
    and -L the residual stream then overflows to inf and the logits are NaN
    in the original and ours alike. N(0, 0.1²) keeps them finite.
    """
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if '.layer_scale_' in name:
                parameter.mul_(factor)


def _prepare_segnext(original):
    shrink_layer_scales(original)
    _silence_untrained_outputs(original)


def _silence_untrained_outputs(original, trained=19):
    """Give the original's never-trained classifier outputs (those past the
    19 CelebAMask-HQ classes of a 150-output head) a bias of -100.

    Cross-entropy training pushes outputs that never see a label down; with
    random weights they would instead win the argmax on many pixels, which
    the trained files do not do. The converter drops them, so without this
    the label maps would differ for a reason that is not the conversion.
    """
    conv_seg = original.decode_head.conv_seg
    if conv_seg.out_channels > trained:
        with torch.no_grad():
            conv_seg.bias[trained:] = -100.


def _save_mmcv_checkpoint(original, folder, file_name):
    """The file as the original's training writes it: mmcv's
    ``save_checkpoint`` with the meta of mmseg 0.24's ``tools/train.py``
    (config text, classes, palette) and ``EvalHook(save_best='mIoU')``
    (a numpy best score), and an AdamW optimizer state."""
    from mmcv.runner import save_checkpoint
    path = osp.join(folder, file_name)
    cfg = original.cfg
    classes = importlib.import_module(
        'mmseg_face.utils.segnext_converter').SEGNEXT_FACEPARSER_CLASSES
    optimizer = torch.optim.AdamW(original.parameters(), lr=6e-5)
    meta = dict(mmseg_version='0.24.1', config=cfg.pretty_text,
                CLASSES=classes, PALETTE=[[0, 0, 0]] * len(classes),
                env_info='', seed=0, exp_name=osp.basename(cfg.filename),
                iter=140000, hook_msgs=dict(best_score=np.float64(0.7819),
                                            best_ckpt=osp.basename(path)))
    save_checkpoint(original, path, optimizer=optimizer, meta=meta)
    return path, original.state_dict()


def _segnext_inference(original, weights):
    """The original's ``inference_segmentor``: its test pipeline (installed
    mmseg's transforms) on the BGR image, then its ``simple_test``, whose
    labels are at the resized image's size; resized back to the input with
    nearest neighbours for images that are not 512 on their long side."""
    import cv2
    from mmseg.apis import inference_segmentor

    def labels(image_path):
        image = cv2.imread(image_path)
        seg = inference_segmentor(original, image)[0].astype(np.uint8)
        return cv2.resize(seg, image.shape[1::-1],
                          interpolation=cv2.INTER_NEAREST)

    return labels


def _segnext_spec(size, best_iteration):
    name = SEGNEXT_SIZES[size]
    return dict(
        repo='e4s2022+SegNeXt-FaceParser',
        build=functools.partial(_segnext_faceparser, size=size),
        file=f'segnext.{name}.best_mIoU_iter_{best_iteration}.pth',
        fixture=f'segnext_faceparser_{size}.json',
        converter='tools/model_converters/segnext_faceparser.py',
        config=f'local_configs/segnext/{name}/segnext_mscan-{size}_e4s_'
        '512x512_celebamask-hq.py',
        classes='segnext', logits=_segnext_logits,
        after_randomize=_prepare_segnext,
        save=_save_mmcv_checkpoint, inference=_segnext_inference)


ORIGINALS = {
    'face-parsing.PyTorch BiSeNet-R18': dict(
        repo='zllrunning+face-parsing.PyTorch', build=_zll_bisenet,
        file='79999_iter.pth', fixture='face_bisenet_zll.json',
        converter='tools/model_converters/face_bisenet.py',
        config='local_configs/face_bisenet/'
        'face_bisenet_r18_8x2_448x448_80k_celebamask-hq.py'),
    'yakhyo BiSeNet-R18': dict(
        repo='yakhyo+face-parsing',
        build=functools.partial(_yakhyo_bisenet, backbone='resnet18'),
        file='resnet18.pt', fixture='face_bisenet_yakhyo_r18.json',
        converter='tools/model_converters/face_bisenet.py',
        config='local_configs/face_bisenet/'
        'face_bisenet_r18_8x2_448x448_80k_celebamask-hq.py'),
    'yakhyo BiSeNet-R34': dict(
        repo='yakhyo+face-parsing',
        build=functools.partial(_yakhyo_bisenet, backbone='resnet34'),
        file='resnet34.pt', fixture='face_bisenet_yakhyo_r34.json',
        converter='tools/model_converters/face_bisenet.py',
        config='local_configs/face_bisenet/'
        'face_bisenet_r34_8x2_448x448_80k_celebamask-hq.py'),
    'GPEN ParseNet': dict(
        repo='yangxy+GPEN', build=_gpen_parsenet,
        file='ParseNet-latest.pth', fixture='parsenet_gpen.json',
        converter='tools/model_converters/parsenet.py',
        config='local_configs/parsenet/'
        'parsenet_gpen_512x512_celebamask-hq.py',
        classes='PARSENET_CLASSES', inference=_gpen_inference),
    'SegNeXt-FaceParser tiny': _segnext_spec('t', 160000),
    'SegNeXt-FaceParser small': _segnext_spec('s', 140000),
    'SegNeXt-FaceParser base': _segnext_spec('b', 140000),
    'SegNeXt-FaceParser large': _segnext_spec('l', 150000),
    'Hugging Face SegFormer-B5 (jonathandinu/face-parsing)': dict(
        repo=None, build=_hf_segformer, save=_save_hf_pretrained,
        logits=_hf_upsampled_logits, file='model.safetensors',
        fixture='segformer_b5_face.json',
        converter='tools/model_converters/segformer_faceparser.py',
        config='local_configs/segformer/'
        'segformer_mlp_mit-b5_8x2_512x512_160k_celebamask-hq.py',
        classes='mmseg_face.utils.segformer_converter.SEGFORMER_FACE_CLASSES',
        inference=_hf_inference),
}
# Modules the originals import top-level, forgotten between originals.
ORIGINAL_MODULES = ('model', 'resnet', 'models', 'models.bisenet',
                    'models.resnet', 'blocks', 'parse_model', 'face_parsing',
                    SEGNEXT_PACKAGE)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# jonathandinu/face-parsing's config.json and preprocessor_config.json
# (docs/published_models.md; nothing is downloaded): SegFormer-B5, 19 labels
# in the official CelebAMask-HQ order.
_HF_FACE_LABELS = ('background', 'skin', 'nose', 'eye_g', 'l_eye', 'r_eye',
                   'l_brow', 'r_brow', 'l_ear', 'r_ear', 'mouth', 'u_lip',
                   'l_lip', 'hair', 'hat', 'ear_r', 'neck_l', 'neck', 'cloth')
HF_FACE_PARSING_CONFIG = dict(
    num_channels=3, num_encoder_blocks=4, depths=[3, 6, 40, 3],
    sr_ratios=[8, 4, 2, 1], hidden_sizes=[64, 128, 320, 512],
    patch_sizes=[7, 3, 3, 3], strides=[4, 2, 2, 2],
    num_attention_heads=[1, 2, 5, 8], mlp_ratios=[4, 4, 4, 4],
    hidden_act='gelu', hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0, classifier_dropout_prob=0.1,
    drop_path_rate=0.1, decoder_hidden_size=768,
    semantic_loss_ignore_index=255, reshape_last_stage=True,
    id2label=dict(enumerate(_HF_FACE_LABELS)),
    label2id={name: index for index, name in enumerate(_HF_FACE_LABELS)})
HF_FACE_PARSING_PREPROCESSOR = dict(
    do_resize=True, size=dict(height=512, width=512), resample=2,
    do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
    image_mean=list(IMAGENET_MEAN), image_std=list(IMAGENET_STD),
    do_reduce_labels=False)


FARL_ORIGINALS = {
    'FaRL celebm/448': dict(
        conf_name='celebm/448', num_labels=19,
        file='face_parsing.farl.celebm.main_ema_181500_jit.pt',
        fixture='farl_celebm.json',
        config='local_configs/farl/'
        'farl_vit-b16_8x5_448x448_80k_celebamask-hq.py'),
    'FaRL lapa/448': dict(
        conf_name='lapa/448', num_labels=11,
        file='face_parsing.farl.lapa.main_ema_136500_jit191.pt',
        fixture='farl_lapa.json',
        config='local_configs/farl/farl_vit-b16_8x5_448x448_80k_lapa.py'),
}
FARL_REPO = 'FacePerceiver+FaRL'
FACER_REPO = 'FacePerceiver+facer'
# Modules of FaRL and facer, and the stand-ins below, forgotten afterwards.
FARL_MODULE_ROOTS = ('farl', 'facer', 'blueprint', 'timm', 'validators')


def _package(name, path):
    """An importable package ``name`` at ``path`` whose ``__init__`` is not
    run (FaRL's pulls in its training framework and a CUDA extension)."""
    package = types.ModuleType(name)
    package.__path__ = [path]
    sys.modules[name] = package


def _stand_in(name, **attributes):
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    sys.modules[name] = module


def _farl_stand_ins():
    """What FaRL's and facer's network files import but do not use for
    inference: the blueprint framework (remote files, contexts), timm's
    init helpers, validators' URL check (every path here is local)."""
    _stand_in('blueprint', Context=object)
    _stand_in('blueprint.ml')
    _stand_in('blueprint.ml.util',
              deal_with_remote_file=lambda path, *args: path)

    class DropPath(torch.nn.Identity):

        def __init__(self, *args, **kwargs):
            super().__init__()

    _stand_in('timm')
    _stand_in('timm.models')
    _stand_in('timm.models.layers', trunc_normal_=torch.nn.init.trunc_normal_,
              DropPath=DropPath)
    _stand_in('validators', url=lambda value: False)


def _farl_network(source_dir, num_labels):
    """FaRL's FaceParsingTransformer with a FaRL-Base backbone at 448, as
    ``networks/farl.yaml`` builds it (head_channel 768)."""
    _farl_stand_ins()
    for name in ('farl', 'farl/network', 'farl/experiments',
                 'farl/experiments/face_parsing'):
        _package(name.replace('/', '.'), osp.join(source_dir, name))
    transformers = importlib.import_module('farl.network.transformers')
    visual = importlib.import_module('farl.network.farl.model')
    # load_farl reads a pretraining file; its ViT-B/16 is built instead.
    transformers.farl.load_farl = lambda model_type, path: \
        visual.VisualTransformer(input_resolution=224, patch_size=16,
                                 width=768, layers=12, heads=12,
                                 output_dim=512)
    backbone = transformers.FaRLVisualFeatures(
        'base', 'pretrained.pth', forced_input_resolution=448,
        _ctx=types.SimpleNamespace(copy2local=None, blob_root=None))
    head = importlib.import_module('farl.network.mmseg').MMSEG_UPerHead(
        num_classes=num_labels, in_channels=[768] * 4, channels=768)
    network = importlib.import_module(
        'farl.experiments.face_parsing.network')
    # Its forward returns an empty dict of auxiliary outputs, which
    # torch.jit.trace cannot record: it gets one empty tensor entry.
    network.dict = lambda: {'aux': torch.zeros(0)}
    # Its constructor moves it to the GPU; here it stays on the CPU.
    cuda = torch.nn.Module.cuda
    torch.nn.Module.cuda = lambda self, *args, **kwargs: self
    try:
        return network.FaceParsingTransformer(backbone, head, (512, 512))
    finally:
        torch.nn.Module.cuda = cuda


def _farl_scenes(count):
    """``count`` generated scenes of one face (rotated, scaled, off
    centre), with the face's box and five landmarks."""
    from mmseg_face.datasets.sample_faces import compose_wild_scene
    rng = np.random.default_rng(0)
    for index in range(count):
        placement = (rng.uniform(-25, 25), rng.uniform(0.9, 1.6),
                     (rng.uniform(260, 380), rng.uniform(200, 280)))
        scene = compose_wild_scene((480, 640), [placement], seed=index)
        yield scene['image'], scene['boxes'][0], scene['landmarks'][0]


def compare_farl(name, spec, mirror, workdir, faces, fixture_dir):
    from mmcv.runner import load_checkpoint

    from mmseg_face.apis import Face, FaceParser
    from mmseg_face.datasets import CelebAMaskHQDataset
    from mmseg_face.utils.farl_converter import (CLIP_MEAN, CLIP_STD,
                                                 FARL_CELEBM_CLASSES)
    from mmseg_face.utils.checkpoint_converters import class_permutation
    farl_dir, farl_commit = extract_snapshot(mirror, FARL_REPO, workdir)
    facer_dir, facer_commit = extract_snapshot(mirror, FACER_REPO, workdir)
    torch.set_num_threads(2)
    original = _farl_network(farl_dir, spec['num_labels']).eval()
    randomize(original, seed=0)
    with torch.no_grad():  # constants of the network, not weights
        original.backbone.image_mean.copy_(
            torch.tensor(CLIP_MEAN).view(1, 3, 1, 1))
        original.backbone.image_std.copy_(
            torch.tensor(CLIP_STD).view(1, 3, 1, 1))
    params = sum(p.numel() for p in original.parameters())
    src = osp.join(workdir, spec['file'])
    inputs = torch.rand(1, 3, 448, 448,
                        generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        traced = torch.jit.trace(original, inputs, strict=False,
                                 check_trace=False)
    torch.jit.save(traced, src)
    if fixture_dir:
        write_fixture(osp.join(fixture_dir, spec['fixture']),
                      f'{FARL_REPO.replace("+", "/")}@{farl_commit[:12]}',
                      spec['file'], torch.jit.load(src).state_dict())
    dst = osp.join(workdir, spec['file'] + '.mmseg.pth')
    subprocess.run([sys.executable, 'tools/model_converters/farl.py', src,
                    dst], cwd=REPO_ROOT, check=True, capture_output=True)

    parser = FaceParser(spec['config'], dst, device='cpu', optimize=False)
    ours = parser.model
    load_checkpoint(ours, dst, map_location='cpu', strict=True)
    ours_params = sum(p.numel() for p in ours.parameters())
    if spec['num_labels'] == 19:
        perm = class_permutation(FARL_CELEBM_CLASSES,
                                 CelebAMaskHQDataset.CLASSES)
    else:
        perm = list(range(spec['num_labels']))
    mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    metas = [dict(img_shape=(448, 448, 3), ori_shape=(448, 448, 3),
                  pad_shape=(448, 448, 3))]
    with torch.no_grad():
        expected = original(inputs)[0][:, perm]
        got = ours.encode_decode((inputs - mean) / std, metas)
    logit_error = float((got - expected).abs().max() /
                        expected.abs().max())

    sys.path.insert(0, facer_dir)
    _package('facer', osp.join(facer_dir, 'facer'))
    facer = importlib.import_module('facer.face_parsing.farl').FaRLFaceParser(
        spec['conf_name'], model_path=src, device=torch.device('cpu'))
    to_ours = np.asarray(perm).argsort()
    equal = total = part_equal = part_total = 0
    for image, box, landmarks in _farl_scenes(faces):
        rgb = torch.from_numpy(np.ascontiguousarray(image[..., ::-1]))
        data = dict(points=torch.from_numpy(landmarks).float()[None],
                    image_ids=torch.tensor([0]))
        theirs = facer(rgb.permute(2, 0, 1)[None], data)['seg']['logits']
        theirs = to_ours[theirs[0].argmax(0).numpy()]
        mine, _ = parser.parse_wild(
            image, faces=[Face(tuple(box), landmarks=landmarks)])
        equal += int((theirs == mine).sum())
        total += mine.size
        parts = (theirs > 0) | (mine > 0)
        part_equal += int((theirs == mine)[parts].sum())
        part_total += int(parts.sum())
    return dict(model=name, commit=f'FaRL {farl_commit[:12]}, facer '
                f'{facer_commit[:12]}', logit_error=logit_error,
                params=params, ours_params=ours_params,
                agreement=equal / total,
                part_agreement=part_equal / max(part_total, 1))


def parse_args():
    parser = argparse.ArgumentParser(
        description='Compare converted published face parsers with their '
        'original implementations')
    parser.add_argument(
        '--mirror', required=True,
        help='folder holding the fetched snapshots (owner+name/repo)')
    parser.add_argument('--models', nargs='+',
                        default=list(ORIGINALS) + list(FARL_ORIGINALS),
                        choices=list(ORIGINALS) + list(FARL_ORIGINALS))
    parser.add_argument('--faces', type=int, default=8,
                        help='generated faces per size for the path check')
    parser.add_argument('--write-fixtures', metavar='DIR',
                        help='also write the key-layout fixtures here')
    parser.add_argument('--time', action='store_true',
                        help='also time original and ours at 512², batch 1')
    parser.add_argument('--repeats', type=int, default=5,
                        help='timed runs per side with --time')
    return parser.parse_args()


def extract_snapshot(mirror, repo, workdir):
    """Check out the Python files of a snapshot's HEAD into ``workdir``.

    Snapshots lack their large files (images, weights), so only sources are
    taken.
    """
    git = ['git', '--git-dir', git_dir(mirror, repo)]
    target = osp.join(workdir, repo)
    sources = [
        path for path in subprocess.run(
            git + ['ls-tree', '-r', '--name-only', 'HEAD'], check=True,
            capture_output=True, text=True).stdout.split()
        if path.endswith('.py')
    ]
    archive = subprocess.run(git + ['archive', 'HEAD', '--'] + sources,
                             check=True, capture_output=True).stdout
    os.makedirs(target, exist_ok=True)
    subprocess.run(['tar', '-x', '-C', target], input=archive, check=True)
    commit = subprocess.run(git + ['rev-parse', 'HEAD'], check=True,
                            capture_output=True, text=True).stdout.strip()
    return target, commit


def randomize(model, seed):
    """Seeded weights and BN statistics, so eval mode is not the identity."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if name.endswith('running_var'):
                tensor.copy_(torch.rand(tensor.shape, generator=generator)
                             + 0.5)
            elif name.endswith(('running_mean', 'bias')):
                tensor.copy_(torch.randn(tensor.shape, generator=generator)
                             * 0.1)
            else:
                fan_in = max(1, tensor[0].numel()) if tensor.dim() > 1 else 1
                tensor.copy_(torch.randn(tensor.shape, generator=generator)
                             / fan_in**0.5)


def write_fixture(path, source, file_name, state_dict):
    """Key names, shapes and dtypes of an original state dict, a key a line."""
    keys = ',\n'.join(
        json.dumps([key, list(value.shape),
                    str(value.dtype).replace('torch.', '')])
        for key, value in state_dict.items())
    with open(path, 'w') as file:
        file.write(f'{{"source": {json.dumps(source)}, '
                   f'"file": {json.dumps(file_name)}, "keys": [\n'
                   f'{keys}\n]}}\n')


def original_labels(original, image_path, size):
    """The original repositories' inference: PIL, torchvision, argmax."""
    from PIL import Image
    from torchvision import transforms
    image = Image.open(image_path).convert('RGB')
    resized = image.resize((size, size), Image.BILINEAR)
    tensor = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    ])(resized)[None]
    with torch.no_grad():
        labels = original(tensor)[0][0].argmax(0).numpy().astype(np.uint8)
    return np.asarray(
        Image.fromarray(labels).resize(image.size, Image.NEAREST))


def latency(original, parser, repeats, logits=_main_output):
    """Median wall ms of the original's forward (``logits``), ours optimised
    and ours as built, at 512², batch 1 (sides taking turns)."""
    from mmseg_face.apis import optimize_for_inference
    built = parser.model
    optimised = optimize_for_inference(built)
    metas = [dict(img_shape=(512, 512, 3), ori_shape=(512, 512, 3),
                  pad_shape=(512, 512, 3))]
    sides = {
        'original': functools.partial(logits, original),
        'optimised': lambda img: optimised.encode_decode(img, metas),
        'as built': lambda img: built.encode_decode(img, metas),
    }
    torch.set_num_threads(2)
    img = torch.randn(1, 3, 512, 512,
                      generator=torch.Generator().manual_seed(2))
    return {side: wall for side, (wall, _) in
            time_sides(sides, img, warmup=1, repeats=repeats).items()}


def _original_classes(name):
    """An original's class names, spelt as ours (``'segnext'``: the
    SegNeXt-FaceParser order, whose ``backgound`` is our ``background``)."""
    if name == 'segnext':
        from mmseg_face.utils import segnext_converter
        return [segnext_converter.CLASS_NAME_FIXES.get(name, name)
                for name in segnext_converter.SEGNEXT_FACEPARSER_CLASSES]
    module, _, attribute = name.rpartition('.')
    return getattr(importlib.import_module(
        module or 'mmseg_face.utils.checkpoint_converters'), attribute)


def compare(name, spec, mirror, workdir, faces, fixture_dir, repeats=None):
    import mmcv
    from mmcv.runner import load_checkpoint

    from mmseg_face.apis import FaceParser
    from mmseg_face.datasets import CelebAMaskHQDataset
    from mmseg_face.datasets.sample_faces import draw_face
    from mmseg_face.utils import checkpoint_converters
    if spec['repo'] is None:
        import transformers
        source_dir, commit = None, f'transformers {transformers.__version__}'
        source = commit
    else:
        source_dir, commit = extract_snapshot(mirror, spec['repo'], workdir)
        commit = commit[:12]
        source = f'{spec["repo"].replace("+", "/")}@{commit}'
    original = spec['build'](source_dir).eval()
    randomize(original, seed=0)
    spec.get('after_randomize', lambda model: None)(original)
    folder = osp.join(workdir, 'weights')
    os.makedirs(folder, exist_ok=True)
    src, saved = spec.get('save', _save_torch)(original, folder, spec['file'])
    if fixture_dir:
        write_fixture(osp.join(fixture_dir, spec['fixture']), source,
                      spec['file'], saved)
    dst = osp.join(workdir, spec['file'] + '.mmseg.pth')
    subprocess.run([sys.executable, spec['converter'], src, dst],
                   cwd=REPO_ROOT, check=True, capture_output=True)

    parser = FaceParser(spec['config'], dst, device='cpu', optimize=False)
    ours = parser.model
    load_checkpoint(ours, dst, map_location='cpu', strict=True)
    perm = checkpoint_converters.class_permutation(
        _original_classes(spec.get('classes', 'ZLL_CLASSES')),
        CelebAMaskHQDataset.CLASSES)
    inputs = torch.randn(2, 3, 512, 512,
                         generator=torch.Generator().manual_seed(1))
    metas = [dict(img_shape=(512, 512, 3), ori_shape=(512, 512, 3),
                  pad_shape=(512, 512, 3))] * 2
    with torch.no_grad():
        expected = spec.get('logits', _main_output)(original, inputs)[:, perm]
        got = ours.encode_decode(inputs, metas)
    logit_error = float((got - expected).abs().max() /
                        expected.abs().max())

    original_parse = spec.get('inference', _pil_imagenet_inference)(
        original, src)
    rng = np.random.default_rng(0)
    agreement = {}
    for size in (512, 400):
        equal = total = 0
        for index in range(faces):
            image, _, _ = draw_face(rng, size)
            path = osp.join(workdir, f'face_{size}_{index}.png')
            mmcv.imwrite(image, path)
            theirs = np.asarray(perm).argsort()[original_parse(path)]
            mine = parser.parse(path)
            equal += int((theirs == mine).sum())
            total += mine.size
        agreement[size] = equal / total
    return dict(model=name, commit=commit, logit_error=logit_error,
                agreement=agreement,
                latency=latency(original, parser, repeats,
                                spec.get('logits', _main_output))
                if repeats else None)


def main():
    args = parse_args()
    import mmseg_face  # noqa: F401
    rows, farl_rows = [], []
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models:
            if name in FARL_ORIGINALS:
                farl_rows.append(compare_farl(
                    name, FARL_ORIGINALS[name], args.mirror, workdir,
                    args.faces, args.write_fixtures))
            else:
                rows.append(compare(name, ORIGINALS[name], args.mirror,
                                    workdir, args.faces, args.write_fixtures,
                                    args.repeats if args.time else None))
            for module in list(sys.modules):
                if module.split('.')[0] in (ORIGINAL_MODULES +
                                            FARL_MODULE_ROOTS):
                    sys.modules.pop(module, None)
            sys.path[:] = [p for p in sys.path if not p.startswith(workdir)]
    failed = False
    if farl_rows:
        print('| original (commits) | parameters (original / ours) | '
              f'logits: max abs diff / max abs logit (limit {LOGIT_LIMIT:g})'
              f' | labels equal, whole scene (limit {PIXEL_LIMIT:.1%}) | '
              'labels equal, pixels either calls a face part |')
        print('|---|---|---|---|---|')
        for row in farl_rows:
            failed |= not (row['logit_error'] <= LOGIT_LIMIT
                           and row['agreement'] >= PIXEL_LIMIT)
            print(f'| {row["model"]} ({row["commit"]}) | '
                  f'{row["params"]:,} / {row["ours_params"]:,} | '
                  f'{row["logit_error"]:.2e} | {row["agreement"]:.4%} | '
                  f'{row["part_agreement"]:.4%} |')
        print()
    if not rows:
        sys.exit(1 if failed else 0)
    print('| original (commit) | logits: max abs diff / max abs logit '
          f'(limit {LOGIT_LIMIT:g}) | labels equal, 512² faces (limit '
          f'{PIXEL_LIMIT:.1%}) | labels equal, 400² faces (nearest '
          'resize of theirs) |')
    print('|---|---|---|---|')
    for row in rows:
        ok = (row['logit_error'] <= LOGIT_LIMIT
              and row['agreement'][512] >= PIXEL_LIMIT)
        failed |= not ok
        print(f'| {row["model"]} ({row["commit"]}) | '
              f'{row["logit_error"]:.2e} | {row["agreement"][512]:.4%} | '
              f'{row["agreement"][400]:.4%} |')
    if args.time:
        print('\nCPU latency, 512², batch 1, 2 threads, median wall ms of '
              f'{args.repeats} runs after one warm-up, sides taking turns:\n')
        print('| original | original (ms) | ours, optimised (ms) | optimised '
              '/ original | ours, as built (ms) | as built / original |')
        print('|---|---|---|---|---|---|')
        for row in rows:
            ms = row['latency']
            print(f'| {row["model"]} | {ms["original"]:,.0f} | '
                  f'{ms["optimised"]:,.0f} | '
                  f'{ms["optimised"] / ms["original"]:.2f} | '
                  f'{ms["as built"]:,.0f} | '
                  f'{ms["as built"] / ms["original"]:.2f} |')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
