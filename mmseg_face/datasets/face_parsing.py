"""Shared base of the face-parsing datasets: layout checks, F1, output."""
import os.path as osp
from collections import OrderedDict
from typing import NamedTuple

import mmcv
import numpy as np
from mmcv.utils import print_log
from mmseg.datasets.builder import DATASETS
from mmseg.datasets.custom import CustomDataset
from PIL import Image
from prettytable import PrettyTable

from mmseg_face.core.evaluation import (areas_from_confusion,
                                        confusion_matrix, face_f1_metrics)

FACE_METRICS = ('mF1', )


class ConfusionMatrix(NamedTuple):
    """Per-image pre-eval result: a (C, C) int64 matrix, rows = ground truth.

    A distinct type (rather than a bare array) so that :meth:`evaluate` and
    mmseg's ``ConcatDataset`` never mistake it for a predicted label map.
    """
    matrix: np.ndarray


@DATASETS.register_module()
class FaceParsingDataset(CustomDataset):
    """Base class of face-parsing datasets in the converted layout.

    The converters in ``mmseg_face.datasets.converters`` write
    ``data_root/{images,labels}/<name>.{jpg,png}`` plus split files
    ``data_root/{train,val,test}.txt``; images and labels have the same size
    and label values are class ids (background is class 0 and is scored, so
    ``reduce_zero_label=False``).

    Besides mmseg's ``mIoU``/``mDice``/``mFscore``, :meth:`evaluate` accepts
    ``mF1``: per-class F1, ``mF1`` over every class except
    ``F1_BACKGROUND`` (so hair, hat, cloth... count) and the merged-class F1
    scores of ``F1_GROUPS``, all from one confusion matrix summed over the
    split at label resolution. :meth:`pre_eval` therefore returns a
    confusion matrix per image (it also yields the stock areas, so mIoU is
    exactly mmseg's).

    Subclasses set ``CLASSES``, ``PALETTE``, ``FLIP_PAIRS`` (class-id pairs
    that swap under a horizontal flip) and, optionally, ``F1_GROUPS``.

    Args:
        img_dir (str): Image folder, relative to ``data_root``.
            Default: 'images'.
        ann_dir (str): Label folder, relative to ``data_root``.
            Default: 'labels'.
        img_suffix (str): Image file suffix (PNG images work too).
            Default: '.jpg'.
        seg_map_suffix (str): Label file suffix. Default: '.png'.
        **kwargs: The other arguments of
            :class:`mmseg.datasets.CustomDataset` (``pipeline``, ``split``,
            ``data_root``, ``test_mode``, ...).

    Raises:
        FileNotFoundError: If ``data_root``, the image or label folder or
            the split file does not exist; the message names the path.
    """

    FLIP_PAIRS = ()
    F1_BACKGROUND = (0, )
    F1_GROUPS = OrderedDict()

    def __init__(self,
                 img_dir='images',
                 ann_dir='labels',
                 img_suffix='.jpg',
                 seg_map_suffix='.png',
                 **kwargs):
        _check_layout(
            data_root=kwargs.get('data_root'),
            img_dir=img_dir,
            ann_dir=ann_dir,
            split=kwargs.get('split'))
        super().__init__(
            img_dir=img_dir,
            ann_dir=ann_dir,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            **kwargs)

    def pre_eval(self, preds, indices):
        """Confusion matrix of each prediction against its label.

        Args:
            preds (list[np.ndarray] | np.ndarray): Predicted class ids, one
                (H, W) map per image, at label resolution.
            indices (list[int] | int): Dataset indices of the predictions.

        Returns:
            list[ConfusionMatrix]: One per image; :meth:`evaluate` sums
            them.
        """
        if not isinstance(indices, list):
            indices = [indices]
        if not isinstance(preds, list):
            preds = [preds]
        matrices = []
        for pred, index in zip(preds, indices):
            gt_seg_map = self.get_gt_seg_map_by_idx(index)
            matrices.append(
                ConfusionMatrix(self._confusion(pred, gt_seg_map, index)))
        return matrices

    def evaluate(self,
                 results,
                 metric='mIoU',
                 logger=None,
                 gt_seg_maps=None,
                 **kwargs):
        """Evaluate mmseg metrics and face-parsing F1 on a split.

        Args:
            results (list[ConfusionMatrix] | list[np.ndarray] | list[str]):
                The outputs of :meth:`pre_eval`, or predicted label maps (or
                paths of ``.npy`` files holding them) in dataset order.
            metric (str | list[str]): Any of 'mIoU', 'mDice', 'mFscore'
                (computed by mmseg) and 'mF1'. Default: 'mIoU'.
            logger (logging.Logger | str | None): Where tables are printed.
            gt_seg_maps (Iterable[np.ndarray], optional): Labels to use
                instead of the dataset's (ConcatDataset passes them).

        Returns:
            dict[str, float]: mmseg's keys (``mIoU``, ``IoU.<class>``...) for
            the stock metrics and, for 'mF1', ``mF1``, ``F1.<class>`` and
            ``F1.<group>``; all fractions in [0, 1].
        """
        metrics = [metric] if isinstance(metric, str) else list(metric)
        stock_metrics = [m for m in metrics if m not in FACE_METRICS]
        conf = self._total_confusion(results, gt_seg_maps)

        eval_results = OrderedDict()
        if stock_metrics:
            # One pre-eval entry holding the split totals: mmseg sums the
            # entries, so its numbers are exactly the stock ones.
            eval_results.update(super().evaluate([areas_from_confusion(conf)],
                                                 stock_metrics,
                                                 logger=logger))
        if 'mF1' in metrics:
            f1_results = face_f1_metrics(
                conf,
                self.CLASSES,
                background_ids=self.F1_BACKGROUND,
                f1_groups=self.F1_GROUPS)
            self._log_f1_tables(f1_results, logger)
            eval_results.update(f1_results)
        return dict(eval_results)

    def format_results(self, results, imgfile_prefix, indices=None, **kwargs):
        """Write predictions as PNGs whose pixel values are the class ids.

        Unlike the ADE20K-derived code of SegNeXt-FaceParser, ids are written
        as they are (no +1), with the dataset palette attached for viewing.

        Args:
            results (list[np.ndarray]): Predicted class ids per image.
            imgfile_prefix (str): Output folder.
            indices (list[int], optional): Dataset indices of ``results``.
                Default: ``range(len(results))``.

        Returns:
            list[str]: Paths of the written files.
        """
        if indices is None:
            indices = list(range(len(results)))
        mmcv.mkdir_or_exist(imgfile_prefix)
        palette = np.asarray(self.PALETTE, dtype=np.uint8).reshape(-1)
        files = []
        for result, index in zip(results, indices):
            name = osp.splitext(
                osp.basename(self.img_infos[index]['filename']))[0]
            png = Image.fromarray(np.asarray(result).astype(np.uint8))
            png.putpalette(palette.tolist())  # 'L' -> 'P', values kept
            path = osp.join(imgfile_prefix, f'{name}.png')
            png.save(path)
            files.append(path)
        return files

    def _confusion(self, pred, gt_seg_map, index):
        try:
            return confusion_matrix(pred, gt_seg_map, len(self.CLASSES),
                                    self.ignore_index)
        except ValueError as error:
            seg_map = self.img_infos[index]['ann']['seg_map']
            raise ValueError(
                f'{osp.join(self.ann_dir, seg_map)}: {error}') from None

    def _total_confusion(self, results, gt_seg_maps):
        if mmcv.is_list_of(results, ConfusionMatrix):
            matrices = [result.matrix for result in results]
        elif mmcv.is_list_of(results, np.ndarray) or mmcv.is_list_of(
                results, str):
            if gt_seg_maps is None:
                gt_seg_maps = self.get_gt_seg_maps()
            matrices = [
                self._confusion(_load_prediction(pred), gt, index)
                for index, (pred, gt) in enumerate(zip(results, gt_seg_maps))
            ]
        else:
            raise TypeError(
                f'{type(self).__name__}.evaluate expects the results of its '
                'pre_eval or predicted label maps, got '
                f'{type(results[0]).__name__} items')
        if not matrices:
            raise ValueError('no results to evaluate')
        return np.sum(matrices, axis=0)

    def _log_f1_tables(self, f1_results, logger):
        class_table = PrettyTable()
        class_table.add_column('Class', list(self.CLASSES))
        class_table.add_column('F1', [
            _percent(f1_results[f'F1.{name}']) for name in self.CLASSES
        ])
        summary = OrderedDict(mF1=f1_results['mF1'])
        summary.update((key[len('F1.'):], value)
                       for key, value in f1_results.items()
                       if key[len('F1.'):] in self.F1_GROUPS)
        summary_table = PrettyTable()
        for key, value in summary.items():
            summary_table.add_column(key, [_percent(value)])
        print_log('per class F1:', logger)
        print_log('\n' + class_table.get_string(), logger=logger)
        print_log('F1 summary (mF1 excludes background):', logger)
        print_log('\n' + summary_table.get_string(), logger=logger)


def _percent(value):
    return np.round(value * 100, 2)


def _load_prediction(pred):
    return np.load(pred) if isinstance(pred, str) else pred


def _check_layout(data_root, img_dir, ann_dir, split):
    if data_root is not None and not osp.isdir(data_root):
        raise FileNotFoundError(
            f'data_root {data_root!r} does not exist; convert the dataset '
            'with tools/convert_datasets/ first')

    def resolve(path):
        if data_root is None or osp.isabs(path):
            return path
        return osp.join(data_root, path)

    for role, path in (('img_dir', img_dir), ('ann_dir', ann_dir)):
        if path is not None and not osp.isdir(resolve(path)):
            raise FileNotFoundError(
                f'{role} {resolve(path)!r} is not a directory')
    if split is not None and not osp.isfile(resolve(split)):
        raise FileNotFoundError(f'split file {resolve(split)!r} not found')
