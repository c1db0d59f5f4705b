"""Face parsers that other projects publish, by name: download, convert
once, cache.

Each :class:`PublishedModel` names the file its original project publishes,
where (the URL is only fetched when a model is first used), what it is and
under which licence, and the converter that turns it into an mmseg_face
checkpoint for its config. :func:`resolve_published_model` returns that
checkpoint: from the cache (no network), after downloading and converting
it, or converted from a local copy of the original file (no network).

The cache is ``$MMSEG_FACE_HOME`` (default ``~/.cache/mmseg_face``): per
model ``<name>/<original file>`` and ``<name>/<name>_mmseg.pth``; local
files are converted into ``local/<name>-<sha256 prefix>_mmseg.pth``.
"""
import dataclasses
import os
import os.path as osp
import sys
from collections import OrderedDict
from typing import Callable, Optional, Tuple

from ..utils.checkpoint import CheckpointError
from ..utils.checkpoint_converters import (PARSENET_CONFIG, PROJECT_ROOT,
                                           convert_face_bisenet_file,
                                           convert_parsenet_file, file_sha256)
from ..utils.download import CACHE_ENV, cache_dir, download, folder_lock
from ..utils.farl_converter import FARL_CONFIGS, convert_farl_file
from ..utils.segformer_converter import (SEGFORMER_FACE_CONFIG,
                                         convert_segformer_faceparser_file)
from ..utils.segnext_converter import (SEGNEXT_FACEPARSER_CONFIGS,
                                       SEGNEXT_FACEPARSER_SIZES,
                                       convert_segnext_faceparser_file)

CONVERTED_SUFFIX = '_mmseg.pth'
# A name ending so is meant as a file (and is missing), not a model name.
CHECKPOINT_SUFFIXES = ('.pth', '.pt', '.bin', '.safetensors')
# What the licence of a dataset adds to that of any weights trained on it.
DATASET_TERMS = {
    'CelebAMask-HQ':
    'restricted to non-commercial research and educational purposes (a '
    'model trained on it inherits that question whatever its code licence '
    'says)',
}


class PublishedModelError(ValueError):
    """A published model name or local file that cannot be resolved."""


@dataclasses.dataclass(frozen=True)
class PublishedModel:
    """One set of published face-parsing weights.

    Attributes:
        name (str): The name to ask for.
        project (str): The original project.
        file (str): The published file's name.
        url (str): Where the original project publishes it.
        licence (str): The weights' licence as the project states it.
        dataset (str): Training dataset (whose class order the converted
            model predicts in).
        num_classes (int): Classes predicted.
        config (str): The config, relative to the repository root.
        converter (callable): ``converter(src, dst)`` writes the converted
            checkpoint (and returns a summary line).
        size (int, optional): The file's size in bytes, where known.
        sha256 (str, optional): Its sha256, where known.
        file_names (tuple[str]): Other names the same file goes by, which
            identify a local copy.
        manual_download (str, optional): Set where ``url`` is a page that
            shows the file rather than the file (a Google Drive folder or
            file page): how to get it by hand. Resolving the name then
            raises this instead of downloading, and a local copy is
            converted offline. Default: None (``url`` is the file).
    """
    name: str
    project: str
    file: str
    url: str
    licence: str
    dataset: str
    num_classes: int
    config: str
    converter: Callable[[str, str], str]
    size: Optional[int] = None
    sha256: Optional[str] = None
    file_names: Tuple[str, ...] = ()
    manual_download: Optional[str] = None

    @property
    def config_path(self):
        """The config's absolute path."""
        return osp.join(PROJECT_ROOT, self.config)

    def licence_notice(self):
        """What a user of these weights should know, in one line."""
        notice = (f'{self.name}: weights from {self.project}, licence: '
                  f'{self.licence}')
        terms = DATASET_TERMS.get(self.dataset)
        if terms:
            notice += f'; trained on {self.dataset}, which is {terms}'
        return notice


def _face_bisenet(name, project, file, url, depth, **kwargs):
    return PublishedModel(
        name=name, project=project, file=file, url=url, licence='MIT',
        dataset='CelebAMask-HQ', num_classes=19,
        config='local_configs/face_bisenet/'
        f'face_bisenet_r{depth}_8x2_448x448_80k_celebamask-hq.py',
        converter=convert_face_bisenet_file, **kwargs)


# SegNeXt-FaceParser's files are on Google Drive, which gives no direct
# link (its pages, and for large files a confirmation page, are HTML): the
# user fetches them and passes the local path.
_SEGNEXT_PROJECT = 'e4s2022/SegNeXt-FaceParser'
_SEGNEXT_FOLDER = ('https://drive.google.com/drive/folders/'
                   '12jOIkj3lZhn4sJ5rN8Y4TUAxiEX0hr79')
_SEGNEXT_FILES = {
    's': 'https://drive.google.com/file/d/1FJDN1edNpUyx8Bv5Eo7JutAvbL9zFfn4',
    'b': 'https://drive.google.com/file/d/1YL4VuCBhhl-sjI3oPZOJhxTf9rIJRxD5',
}
_SEGNEXT_BEST_ITERATIONS = dict(t=160000, s=140000, b=140000, l=150000)


def _segnext_faceparser(size):
    name = SEGNEXT_FACEPARSER_SIZES[size]['name']
    iteration = _SEGNEXT_BEST_ITERATIONS[size]
    file = f'segnext.{name}.best_mIoU_iter_{iteration}.pth'
    page = _SEGNEXT_FILES.get(size, _SEGNEXT_FOLDER)
    return PublishedModel(
        name=f'segnext-{name}-e4s-celebamask', project=_SEGNEXT_PROJECT,
        file=file, url=page,
        licence='Apache-2.0; "for commercial use, please contact the '
        'authors"', dataset='CelebAMask-HQ', num_classes=19,
        config=SEGNEXT_FACEPARSER_CONFIGS[size],
        converter=convert_segnext_faceparser_file,
        manual_download=f'{file} is on Google Drive, which gives no direct '
        f'download link: download it from {page} (the {_SEGNEXT_PROJECT} '
        'README links the folder) and pass its local path instead of the '
        'name')


# A new converter is one more entry here.
PUBLISHED_MODELS = OrderedDict((model.name, model) for model in [
    # zll's 79999_iter.pth is on Google Drive, which gives no direct link;
    # facexlib's release copy has its size and sha256 (third-party
    # manifests give both for either file).
    _face_bisenet(
        'bisenet-zll-celebamask',
        'zllrunning/face-parsing.PyTorch (facexlib parsing_bisenet.pth)',
        'parsing_bisenet.pth',
        'https://github.com/xinntao/facexlib/releases/download/v0.2.0/'
        'parsing_bisenet.pth', depth=18, size=53_289_463,
        sha256='468e13ca13a9b43cc0881a9f99083a430e9c0a38abd935431d1c28ee94'
        'b26567', file_names=('79999_iter.pth', )),
    _face_bisenet(
        'bisenet-yakhyo-r18-celebamask', 'yakhyo/face-parsing', 'resnet18.pt',
        'https://github.com/yakhyo/face-parsing/releases/download/weights/'
        'resnet18.pt', depth=18),
    _face_bisenet(
        'bisenet-yakhyo-r34-celebamask', 'yakhyo/face-parsing', 'resnet34.pt',
        'https://github.com/yakhyo/face-parsing/releases/download/weights/'
        'resnet34.pt', depth=34),
    # GPEN's own copy (Aliyun OSS) has no published hash; facexlib's release
    # copy, of the same size and keys, has one in third-party manifests.
    PublishedModel(
        name='parsenet-gpen-celebamask',
        project='yangxy/GPEN (facexlib parsing_parsenet.pth; from PSFRGAN)',
        file='parsing_parsenet.pth',
        url='https://github.com/xinntao/facexlib/releases/download/v0.2.2/'
        'parsing_parsenet.pth',
        licence='non-commercial (GPEN: academic use only; PSFRGAN: CC '
        'BY-NC-SA 4.0)',
        dataset='CelebAMask-HQ', num_classes=19, config=PARSENET_CONFIG,
        converter=convert_parsenet_file, size=85_331_193,
        sha256='3d558d8d0e42c20224f13cf5a29c79eba2d59913419f945545d8cf7b72'
        '920de2', file_names=('ParseNet-latest.pth', )),
    *(_segnext_faceparser(size) for size in SEGNEXT_FACEPARSER_SIZES),
    # The hub publishes no checksum page; the same weights are also in its
    # pytorch_model.bin, which converts alike.
    PublishedModel(
        name='segformer-b5-jonathandinu-celebamask',
        project='jonathandinu/face-parsing (Hugging Face hub)',
        file='model.safetensors',
        url='https://huggingface.co/jonathandinu/face-parsing/resolve/main/'
        'model.safetensors',
        licence='CC0-1.0 (model card); its MiT-B5 backbone comes from NVIDIA '
        'SegFormer, whose licence is non-commercial',
        dataset='CelebAMask-HQ', num_classes=19, config=SEGFORMER_FACE_CONFIG,
        converter=convert_segformer_faceparser_file,
        file_names=('pytorch_model.bin', )),
    # facer's release assets (TorchScript); no size or hash is published.
    PublishedModel(
        name='farl-facer-celebamask',
        project='FacePerceiver/facer (FaRL farl/celebm/448)',
        file='face_parsing.farl.celebm.main_ema_181500_jit.pt',
        url='https://github.com/FacePerceiver/facer/releases/download/'
        'models-v1/face_parsing.farl.celebm.main_ema_181500_jit.pt',
        licence='MIT', dataset='CelebAMask-HQ', num_classes=19,
        config=FARL_CONFIGS['celebm'], converter=convert_farl_file),
    PublishedModel(
        name='farl-facer-lapa',
        project='FacePerceiver/facer (FaRL farl/lapa/448)',
        file='face_parsing.farl.lapa.main_ema_136500_jit191.pt',
        url='https://github.com/FacePerceiver/facer/releases/download/'
        'models-v1/face_parsing.farl.lapa.main_ema_136500_jit191.pt',
        licence='MIT', dataset='LaPa', num_classes=11,
        config=FARL_CONFIGS['lapa'], converter=convert_farl_file),
])


def _log_stderr(message):
    print(message, file=sys.stderr)


def get_published_model(name):
    """The registry entry ``name``.

    Raises:
        PublishedModelError: Listing the known names.
    """
    model = PUBLISHED_MODELS.get(name)
    if model is None:
        raise PublishedModelError(
            f'unknown published model {name!r}; known models: '
            f'{", ".join(PUBLISHED_MODELS)}')
    return model


def _identify_local_file(path, sha256):
    """The entry a local original file is a copy of: by sha256, else by
    file name."""
    name = osp.basename(path)
    for model in PUBLISHED_MODELS.values():
        if model.sha256 is not None and model.sha256 == sha256:
            return model
    for model in PUBLISHED_MODELS.values():
        if name in (model.file, *model.file_names):
            return model
    known = sorted({file for model in PUBLISHED_MODELS.values()
                    for file in (model.file, *model.file_names)})
    raise PublishedModelError(
        f'{path}: cannot tell which published model this file is (its name '
        f'is none of {", ".join(known)} and its sha256 is no published one); '
        f'name it with model_name= (--model-name), one of: '
        f'{", ".join(PUBLISHED_MODELS)}')


def _convert_once(model, src, dst, log, downloaded):
    """Convert ``src`` to ``dst`` unless done; print the licence the first
    time. A downloaded original that cannot be converted is deleted."""
    with folder_lock(osp.dirname(dst)):
        if osp.isfile(dst):
            return dst
        log(model.licence_notice())
        try:
            model.converter(src, dst)
        except CheckpointError as error:
            if not downloaded:
                raise
            os.remove(src)
            raise CheckpointError(
                error.filename, f'{error.reason} (the download from '
                f'{model.url} was deleted; the next use downloads it '
                'again)') from error
    return dst


def resolve_published_model(name_or_path, model_name=None, progress=True,
                            log=_log_stderr):
    """The converted checkpoint of a published model, and its entry.

    Args:
        name_or_path (str): A name of :data:`PUBLISHED_MODELS`, or a local
            copy of an original file (used offline; which model it is
            follows from ``model_name``, else its sha256 or file name).
        model_name (str, optional): The entry a local file belongs to.
            Default: None.
        progress (bool): Show a download progress bar. Default: True.
        log (callable): Takes each message (the licence on first use, a
            downloaded file's sha256 where none is published). Default:
            print to stderr.

    Returns:
        tuple[PublishedModel, str]: The entry and the converted checkpoint.

    Raises:
        PublishedModelError: An unknown name, an unidentified file, or the
            name of a file to download by hand (not yet converted): the
            message says where to get it.
        DownloadError: The download failed or differs from its sha256.
        CheckpointError: The original file is not a usable checkpoint of
            the model (the message names the file).
    """
    name_or_path = os.fspath(name_or_path)
    cache = cache_dir()
    path = osp.expanduser(name_or_path)
    if osp.isfile(path):
        sha256 = file_sha256(path)
        model = get_published_model(model_name) if model_name else \
            _identify_local_file(path, sha256)
        dst = osp.join(cache, 'local',
                       f'{model.name}-{sha256[:16]}{CONVERTED_SUFFIX}')
        return model, _convert_once(model, path, dst, log, downloaded=False)
    if model_name is not None or os.sep in name_or_path or \
            name_or_path.endswith(CHECKPOINT_SUFFIXES):
        raise FileNotFoundError(f'checkpoint not found: {name_or_path}')
    model = get_published_model(name_or_path)
    folder = osp.join(cache, model.name)
    dst = osp.join(folder, model.name + CONVERTED_SUFFIX)
    if osp.isfile(dst):
        return model, dst
    if model.manual_download:
        raise PublishedModelError(f'{model.name}: {model.manual_download}')
    src, sha256 = download(model.url, osp.join(folder, model.file),
                           sha256=model.sha256, progress=progress)
    if sha256 is not None and model.sha256 is None:
        log(f'{model.name}: downloaded {model.file}, sha256 {sha256} (no '
            'published checksum to compare with; recorded in the converted '
            "checkpoint's meta)")
    return model, _convert_once(model, src, dst, log, downloaded=True)


def _size_text(size):
    return f'{size / 1e6:.1f} MB' if size else 'unknown'


def format_published_models():
    """A table of :data:`PUBLISHED_MODELS` (name, project, file, size,
    licence, classes, dataset), then the dataset terms."""
    header = ('name', 'original project', 'file', 'size', 'licence',
              'classes', 'dataset')
    rows = [header] + [
        (model.name, model.project, model.file, _size_text(model.size),
         model.licence, str(model.num_classes), model.dataset)
        for model in PUBLISHED_MODELS.values()]
    widths = [max(len(row[column]) for row in rows)
              for column in range(len(header))]
    lines = ['  '.join(cell.ljust(width)
                       for cell, width in zip(row, widths)).rstrip()
             for row in rows]
    datasets = sorted({model.dataset for model in PUBLISHED_MODELS.values()})
    lines += [f'{dataset} is {DATASET_TERMS[dataset]}.' for dataset in datasets
              if dataset in DATASET_TERMS]
    lines.append(f'Cache: {cache_dir()} (set ${CACHE_ENV} to move it); a '
                 'local copy of an original file works offline.')
    return '\n'.join(lines)
