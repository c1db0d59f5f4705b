"""Start-up checks of ``tools/train.py`` and ``tools/test.py``.

Input that would make a run fail later (after the whole inference, at the
first evaluation, at iteration 13) or fail with a traceback is caught here,
in seconds and before anything is written: the config file and its
``--cfg-options``, the launcher and loader settings, metric names,
``num_classes`` against the dataset, and every file of every split the run
uses. Each check raises :class:`StartupCheckError`, one line naming the file
or option and what is wrong.
"""
import difflib
import gc
import os
import os.path as osp
import sys

import torch
from mmcv import Config
from mmcv.runner import EvalHook
from mmseg.datasets import CityscapesDataset, build_dataset

from mmseg_face.datasets.face_parsing import FACE_METRICS, FaceParsingDataset

# What mmseg 0.30's CustomDataset.evaluate accepts (its ``allowed_metrics``);
# it raises KeyError for anything else, once inference is over.
STOCK_METRICS = ('mIoU', 'mDice', 'mFscore')
# The per-class results of each (mean ``m<name>``, ``<name>.<class>``).
STOCK_RESULTS = dict(mIoU=('IoU', 'Acc'), mDice=('Dice', 'Acc'),
                     mFscore=('Fscore', 'Precision', 'Recall'))
# Loader settings mmseg reads from ``data`` and from its per-loader dicts.
LOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
TORCHRUN_ENV = ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
# How many missing files or possible results an error line lists.
NAMES_SHOWN = 5
# difflib ratio above which an unknown option key is taken for a misspelling
# of an existing one ('max_iter' vs 'max_iters' is 0.94).
MISSPELLING_CUTOFF = 0.8


class StartupCheckError(ValueError):
    """Input that would make a tool's run fail; the message is one line."""


def check_train_start_up(args):
    """Check the input of mmseg's ``tools/train.py`` before it runs.

    Args:
        args (argparse.Namespace): The script's parsed arguments.

    Returns:
        str: A one-line summary of what was checked.

    Raises:
        StartupCheckError: On the first problem found.
    """
    cfg = _checked_config(args)
    work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    check_writable_dir('--work-dir', work_dir)
    for option, path in (('--resume-from', args.resume_from
                          or cfg.get('resume_from')),
                         ('--load-from', args.load_from
                          or cfg.get('load_from'))):
        if path and '://' not in path and not osp.isfile(path):
            raise StartupCheckError(f'{option} {path}: no such file')

    train_set, images = check_split('train', cfg.data.train, cfg.model,
                                    labels=True)
    check_one_batch(len(train_set), cfg.data)
    summary = f'checks passed: {images} train images with labels'
    if not args.no_validate:
        evaluation = cfg.get('evaluation') or {}
        metrics = evaluation.get('metric', 'mIoU')
        val_set, images = check_split('val', cfg.data.val, cfg.model,
                                      labels=True,
                                      metrics=('evaluation.metric', metrics))
        check_save_best(evaluation, metrics, val_set)
        summary += f', {images} val images with labels'
    return summary


def check_test_start_up(args):
    """:func:`check_train_start_up` for ``tools/test.py``'s arguments.

    The checkpoint is left to loading, which names what is wrong with it.
    """
    check_test_arguments(args)
    cfg = _checked_config(args)
    for option, path in (('--work-dir', args.work_dir),
                         ('--show-dir', args.show_dir),
                         ('--out', args.out and osp.dirname(args.out))):
        if path:
            check_writable_dir(option, path)
    if args.aug_test:
        check_aug_test_pipeline(cfg.data.test.pipeline)
    cfg.data.test.test_mode = True
    metrics = ('--eval', args.eval) if args.eval else None
    _, images = check_split('test', cfg.data.test, cfg.model,
                            labels=bool(args.eval), metrics=metrics)
    return f'checks passed: {images} test images' + \
        (' with labels' if args.eval else '')


def _checked_config(args):
    """The config with its options, after the checks of every run."""
    cfg = load_config(args.config, args.cfg_options)
    check_launcher(args.launcher, cfg)
    check_loader_settings(cfg.data)
    return cfg


def check_test_arguments(args):
    """The operation and output options of ``tools/test.py``."""
    if not (args.out or args.eval or args.format_only or args.show
            or args.show_dir):
        raise StartupCheckError(
            'nothing to do: give --eval METRIC..., --out FILE.pkl, '
            '--format-only, --show or --show-dir')
    if args.eval and args.format_only:
        raise StartupCheckError('--eval and --format-only exclude each other')
    if args.out and not args.out.endswith(('.pkl', '.pickle')):
        raise StartupCheckError(
            f'--out {args.out}: the results file must end in .pkl or .pickle')
    if not 0 < args.opacity <= 1:
        raise StartupCheckError(
            f'--opacity {args.opacity}: must be in (0, 1]')


def check_aug_test_pipeline(pipeline):
    """mmseg's ``--aug-test`` sets scales and flip on pipeline step 1."""
    step = pipeline[1].get('type') if len(pipeline) > 1 else None
    if step != 'MultiScaleFlipAug':
        raise StartupCheckError(
            '--aug-test sets the scales and flip of data.test.pipeline.1, '
            f'which must be a MultiScaleFlipAug, not {step}')


def load_config(path, options=None):
    """Load a config file and merge checked ``--cfg-options`` into it.

    Args:
        path (str): The config file.
        options (dict, optional): ``--cfg-options`` as parsed by mmcv's
            ``DictAction``.

    Returns:
        mmcv.Config: The merged config.
    """
    cfg = _read_config_file(path)
    if options:
        check_config_options(cfg, options)
        cfg.merge_from_dict(options)
    return cfg


def _read_config_file(path):
    """``Config.fromfile``, failing with one line on any error of the file."""
    unraisablehook = sys.unraisablehook
    try:
        return Config.fromfile(path)
    except Exception as error:  # noqa: B902 (running the file failed)
        # mmcv's temporary copy of a config that fails to load outlives its
        # folder; freeing it would print a FileNotFoundError traceback.
        sys.unraisablehook = _ignore_unraisable
        if isinstance(error, SyntaxError):
            # mmcv's message names the file (maybe a base) and the line.
            message = str(error)
        else:
            message = f'config file {path}: {type(error).__name__}: ' + \
                ' '.join(str(error).split())
    try:
        gc.collect()
    finally:
        sys.unraisablehook = unraisablehook
    raise StartupCheckError(message)


def _ignore_unraisable(unraisable):
    pass


def check_config_options(cfg, options):
    """Refuse ``--cfg-options`` keys that do not fit the config.

    mmcv adds an unknown key silently, so a misspelt one (``max_iter``)
    changes nothing or fails far from the cause. A key is refused when it
    walks through a value that is not a dict or list, indexes a list out of
    range, or is missing where the config has a similar key; a missing key
    with no similar neighbour is a new setting and is kept.

    Args:
        cfg (mmcv.Config): The loaded config.
        options (dict): Dotted keys to values.
    """
    for key in options:
        node, walked = cfg._cfg_dict, []
        for part in key.split('.'):
            where = '.'.join(walked) or 'the config'
            if isinstance(node, (list, tuple)):
                if not part.isdigit() or int(part) >= len(node):
                    raise StartupCheckError(
                        f'--cfg-options {key}: {where} is a list of '
                        f'{len(node)}; {part!r} is not an index of it')
                node = node[int(part)]
            elif isinstance(node, dict):
                if part not in node:
                    similar = difflib.get_close_matches(
                        part, [str(k) for k in node], 1, MISSPELLING_CUTOFF)
                    if similar:
                        raise StartupCheckError(
                            f'--cfg-options {key}: {where} has no key '
                            f'{part!r}; did you mean '
                            f'{".".join(walked + similar)}?')
                    break
                node = node[part]
            else:
                raise StartupCheckError(
                    f'--cfg-options {key}: {where} is {node!r}, which has '
                    f'no key {part!r}')
            walked.append(part)


def check_launcher(launcher, cfg):
    """The launcher's environment and the process-group backend."""
    if launcher == 'none':
        return
    if launcher == 'pytorch':
        unset = [name for name in TORCHRUN_ENV if name not in os.environ]
        if unset:
            raise StartupCheckError(
                f'--launcher pytorch: {unset[0]} is not set; start the run '
                'with tools/dist_train.sh, tools/dist_test.sh or torchrun')
    if torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise StartupCheckError(
            f'--launcher {launcher} needs CUDA and none was found; on CPU '
            'start with tools/dist_train.sh or tools/dist_test.sh')
    if cfg.get('dist_params', {}).get('backend') == 'nccl':
        raise StartupCheckError(
            "dist_params.backend='nccl' needs CUDA and none was found; set "
            "'gloo' or leave it unset")


def check_loader_settings(data):
    """``samples_per_gpu`` >= 1 and ``workers_per_gpu`` >= 0, everywhere."""
    places = [('data', data)] + [(f'data.{key}', data[key])
                                 for key in LOADER_KEYS if key in data]
    for prefix, settings in places:
        for key, least in (('samples_per_gpu', 1), ('workers_per_gpu', 0)):
            value = settings.get(key, least)
            if isinstance(value, bool) or not isinstance(value, int) \
                    or value < least:
                raise StartupCheckError(
                    f'{prefix}.{key}={value!r}: must be a whole number '
                    f'>= {least}')


def check_one_batch(images, data):
    """The training set (``images`` long) fills one batch in every process.

    Each process gets its share of the split (padded to equal shares), and
    mmseg drops incomplete training batches: with a smaller share there is
    no batch at all and the runner's first ``next`` raises StopIteration.
    """
    batch = data.get('train_dataloader', {}).get('samples_per_gpu',
                                                 data.samples_per_gpu)
    processes = int(os.environ.get('WORLD_SIZE', 1))
    share = -(-images // processes)
    if share < batch:
        raise StartupCheckError(
            f'data.train has {images} samples, {share} per process of '
            f'{processes}: fewer than one batch of data.samples_per_gpu='
            f'{batch} (incomplete training batches are dropped)')


def check_writable_dir(option, path):
    """``path`` is a folder, or one that can be created, and is writable."""
    existing = osp.abspath(path)
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing):
        raise StartupCheckError(
            f'{option} {path}: {existing} is a file, not a folder')
    if not os.access(existing, os.W_OK | os.X_OK):
        raise StartupCheckError(f'{option} {path}: {existing} is not '
                                'writable')


def check_split(name, dataset_cfg, model_cfg, labels, metrics=None):
    """Build a split's dataset and check its files, classes and metrics.

    Args:
        name (str): 'train', 'val' or 'test' (the key under ``data``).
        dataset_cfg (dict): The split's dataset config.
        model_cfg (dict): The model config (its heads' ``num_classes``).
        labels (bool): Whether the run reads the split's labels.
        metrics (tuple[str, str | list[str]], optional): The option naming
            the metrics to compute on the split, and its value.

    Returns:
        tuple: The dataset and how many images it has.
    """
    for path in split_files(dataset_cfg):
        check_utf8(f'data.{name}.split', path)
    try:
        dataset = build_dataset(dataset_cfg)
    except (FileNotFoundError, NotADirectoryError) as error:
        raise StartupCheckError(f'data.{name}: {error}') from error
    leaves = list(leaf_datasets(dataset))
    count = check_files_present(name, leaves, labels)
    check_num_classes(name, dataset, model_cfg)
    if metrics is not None:
        check_metrics(*metrics, leaves)
    return dataset, count


def split_files(dataset_cfg):
    """Paths of the split files a dataset config reads, wrappers included."""
    if isinstance(dataset_cfg, (list, tuple)):
        return [p for item in dataset_cfg for p in split_files(item)]
    if 'dataset' in dataset_cfg:
        return split_files(dataset_cfg['dataset'])
    if 'datasets' in dataset_cfg:
        return split_files(dataset_cfg['datasets'])
    splits = dataset_cfg.get('split')
    splits = [splits] if isinstance(splits, str) else list(splits or ())
    data_root = dataset_cfg.get('data_root')
    return [
        osp.join(data_root, split) if data_root and not osp.isabs(split)
        else split for split in splits
    ]


def check_utf8(option, path):
    """A text file the dataset reads as UTF-8 is UTF-8 (when it exists)."""
    if not osp.isfile(path):
        return
    with open(path, 'rb') as f:
        content = f.read()
    try:
        content.decode('utf-8')
    except UnicodeDecodeError as error:
        line = content[:error.start].count(b'\n') + 1
        raise StartupCheckError(
            f'{option} {path}, line {line}: byte '
            f'0x{content[error.start]:02x} is not UTF-8 text') from None


def leaf_datasets(dataset):
    """The datasets holding files under mmseg's wrapper datasets."""
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        for child in dataset.datasets:
            yield from leaf_datasets(child)
    elif hasattr(dataset, 'dataset'):  # RepeatDataset, MultiImageMixDataset
        yield from leaf_datasets(dataset.dataset)
    else:
        yield dataset


def check_files_present(name, leaves, labels):
    """Every image (and label) the split lists exists; returns the count."""
    missing, total, images = [], 0, 0
    for dataset in leaves:
        listing = dataset.split or \
            f'{dataset.img_dir} (files ending in {dataset.img_suffix})'
        if not dataset.img_infos:
            raise StartupCheckError(f'data.{name}: {listing} lists no images')
        if labels and dataset.ann_dir is None:
            raise StartupCheckError(
                f'data.{name}: the run needs labels and ann_dir is not set')
        for info in dataset.img_infos:
            paths = [osp.join(dataset.img_dir, info['filename'])]
            if labels:
                paths.append(osp.join(dataset.ann_dir,
                                      info['ann']['seg_map']))
            total += len(paths)
            missing += [(listing, path) for path in paths
                        if not osp.isfile(path)]
        images += len(dataset.img_infos)
    if missing:
        shown = ', '.join(path for _, path in missing[:NAMES_SHOWN])
        more = ', ...' if len(missing) > NAMES_SHOWN else ''
        raise StartupCheckError(
            f'data.{name}: {len(missing)} of the {total} files listed by '
            f'{missing[0][0]} are missing: {shown}{more}')
    return images


def check_num_classes(name, dataset, model_cfg):
    """Every head predicts as many classes as the dataset has."""
    if dataset.CLASSES is None:
        return
    expected = len(dataset.CLASSES)
    for option, head in model_heads(model_cfg):
        actual = head.get('num_classes')
        if actual is not None and actual != expected:
            raise StartupCheckError(
                f'{option}.num_classes={actual}, but data.{name} '
                f'({type(dataset).__name__}) has {expected} classes; set '
                f'{option}.num_classes={expected}')


def model_heads(model_cfg):
    """(option, config) of every decode and auxiliary head of a model."""
    for key in ('decode_head', 'auxiliary_head'):
        heads = model_cfg.get(key)
        if isinstance(heads, dict):
            yield f'model.{key}', heads
        elif heads:
            for index, head in enumerate(heads):
                yield f'model.{key}.{index}', head


def dataset_metrics(dataset):
    """The metric names ``dataset.evaluate`` accepts."""
    if isinstance(dataset, FaceParsingDataset):
        return STOCK_METRICS + FACE_METRICS
    if isinstance(dataset, CityscapesDataset):
        return STOCK_METRICS + ('cityscapes', )
    return STOCK_METRICS


def result_keys(metrics, dataset):
    """The keys of what ``dataset.evaluate(results, metrics)`` returns."""
    metrics = _as_list(metrics)
    keys = []
    for metric, names in STOCK_RESULTS.items():
        if metric in metrics:
            keys += ['aAcc'] + [f'm{name}' for name in names] + [
                f'{name}.{cls}' for name in names for cls in dataset.CLASSES
            ]
    if 'mF1' in metrics:
        keys += ['mF1'] + [
            f'F1.{name}'
            for name in (*dataset.CLASSES, *getattr(dataset, 'F1_GROUPS', ()))
        ]
    return list(dict.fromkeys(keys))


def check_save_best(evaluation, metrics, dataset):
    """``evaluation.save_best`` is a result that mmcv knows how to rank.

    mmcv finds out at the first evaluation (KeyError), and when it builds
    the hook whether higher or lower is better (ValueError).
    """
    key = evaluation.get('save_best')
    if key in (None, 'auto'):
        return
    keys = result_keys(metrics, dataset)
    if key not in keys:
        shown = ', '.join(keys[:NAMES_SHOWN])
        more = ', ...' if len(keys) > NAMES_SHOWN else ''
        raise StartupCheckError(
            f'evaluation.save_best={key!r} is not among the results of '
            f'evaluation.metric={metrics!r}: {shown}{more}')
    if evaluation.get('rule') is not None:
        return
    known = [
        *_as_list(evaluation.get('greater_keys')
                  or EvalHook._default_greater_keys),
        *_as_list(evaluation.get('less_keys') or EvalHook._default_less_keys)
    ]
    if not any(part.lower() in key.lower() for part in known):
        raise StartupCheckError(
            f'evaluation.save_best={key!r}: mmcv cannot tell whether higher '
            "is better; set evaluation.rule='greater' (or 'less')")


def _as_list(value):
    return [value] if isinstance(value, str) else list(value)


def check_metrics(option, metrics, leaves):
    """Every metric asked for is one the split's datasets compute."""
    allowed = [
        metric for metric in dataset_metrics(leaves[0])
        if all(metric in dataset_metrics(leaf) for leaf in leaves)
    ]
    for metric in _as_list(metrics):
        if metric not in allowed:
            raise StartupCheckError(
                f'{option}: unknown metric {metric!r} for '
                f'{type(leaves[0]).__name__}; choose from '
                f'{", ".join(allowed)}')
