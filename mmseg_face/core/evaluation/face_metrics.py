"""Face-parsing metrics computed from one confusion matrix per split.

Face-parsing papers (EAGR, FaRL, SegFace) report F1 from a confusion matrix
summed over the whole split, not a per-image mean. Per-class F1 needs only
the diagonal and the marginals, but the merged scores (Helen/LaPa "overall",
"eyes", "mouth") also need the off-diagonal cells inside a group: a left eye
predicted as right eye is correct for "eyes". That is why the datasets
collect a full confusion matrix per image in ``pre_eval``.
"""
from collections import OrderedDict

import numpy as np
import torch


def confusion_matrix(pred_label, label, num_classes, ignore_index=255):
    """Confusion matrix of one prediction against its label map.

    Args:
        pred_label (np.ndarray | torch.Tensor): Predicted class ids, (H, W).
        label (np.ndarray | torch.Tensor): Ground-truth class ids, (H, W).
        num_classes (int): Number of classes.
        ignore_index (int): Label value excluded from the count.
            Default: 255.

    Returns:
        np.ndarray: int64 array of shape (num_classes, num_classes); entry
        ``[g, p]`` counts pixels labelled ``g`` and predicted ``p``.

    Raises:
        ValueError: If the shapes differ or a non-ignored value is outside
            ``[0, num_classes)``: counting it anywhere would give a wrong
            score, so it is an error rather than being dropped.
    """
    pred_label = _to_numpy(pred_label).astype(np.int64)
    label = _to_numpy(label).astype(np.int64)
    if pred_label.shape != label.shape:
        raise ValueError(f'prediction shape {pred_label.shape} differs from '
                         f'label shape {label.shape}')
    valid = label != ignore_index
    label = label[valid]
    pred_label = pred_label[valid]
    for name, values in (('label', label), ('prediction', pred_label)):
        bad = (values < 0) | (values >= num_classes)
        if bad.any():
            raise ValueError(
                f'{name} holds values {sorted(set(values[bad].tolist()))} '
                f'outside [0, {num_classes}) (ignore_index={ignore_index})')
    counts = np.bincount(
        label * num_classes + pred_label, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def areas_from_confusion(conf):
    """The four area histograms of mmseg's ``intersect_and_union``.

    Args:
        conf (np.ndarray): (C, C) confusion matrix, rows = ground truth.

    Returns:
        tuple[torch.Tensor]: area_intersect, area_union, area_pred_label and
        area_label, float32 tensors of shape (C,) like mmseg's (so its
        ``pre_eval_to_metrics`` gives bit-identical mIoU/mDice/mFscore).
    """
    conf = np.asarray(conf, dtype=np.int64)
    area_intersect = np.diag(conf)
    area_pred_label = conf.sum(axis=0)
    area_label = conf.sum(axis=1)
    area_union = area_pred_label + area_label - area_intersect
    return tuple(
        torch.from_numpy(np.ascontiguousarray(area, dtype=np.float32))
        for area in (area_intersect, area_union, area_pred_label, area_label))


def f1_per_class(conf):
    """Per-class F1 = 2 TP / (2 TP + FP + FN) from a confusion matrix.

    Args:
        conf (np.ndarray): (C, C) confusion matrix, rows = ground truth.

    Returns:
        np.ndarray: float64 (C,); NaN for a class that is neither labelled
        nor predicted anywhere in the split.
    """
    conf = np.asarray(conf, dtype=np.float64)
    true_positive = np.diag(conf)
    denominator = conf.sum(axis=0) + conf.sum(axis=1)
    with np.errstate(invalid='ignore', divide='ignore'):
        return 2 * true_positive / denominator


def merged_f1(conf, class_ids):
    """F1 of several classes merged into one.

    A pixel is a true positive when its label and its prediction are both in
    ``class_ids``, so confusions inside the group (left vs right eye, upper
    lip vs inner mouth) are not penalised, as in the Helen protocol.

    Args:
        conf (np.ndarray): (C, C) confusion matrix, rows = ground truth.
        class_ids (Sequence[int]): Classes forming the merged class.

    Returns:
        float: The merged F1, NaN if the group is absent from both label
        and prediction.
    """
    conf = np.asarray(conf, dtype=np.float64)
    ids = np.asarray(sorted(set(class_ids)), dtype=np.int64)
    true_positive = conf[np.ix_(ids, ids)].sum()
    denominator = conf[:, ids].sum() + conf[ids, :].sum()
    if denominator == 0:
        return float('nan')
    return float(2 * true_positive / denominator)


def face_f1_metrics(conf, class_names, background_ids=(0, ),
                    f1_groups=None):
    """All face-parsing F1 scores of a split.

    Args:
        conf (np.ndarray): (C, C) confusion matrix summed over the split.
        class_names (Sequence[str]): The C class names.
        background_ids (Sequence[int]): Classes left out of ``mF1``.
            Default: (0,).
        f1_groups (dict[str, Sequence[int]], optional): Merged classes to
            score, name -> class ids; an ``'overall'`` entry is the single
            F1 over the union of its ids. Default: None.

    Returns:
        OrderedDict[str, float]: ``F1.<class>`` for every class, ``mF1`` (the
        NaN-skipping mean of the non-background classes) and
        ``F1.<group>`` for every merged group; all fractions in [0, 1].
    """
    conf = np.asarray(conf)
    if conf.shape != (len(class_names), len(class_names)):
        raise ValueError(f'confusion matrix of shape {conf.shape} does not '
                         f'match {len(class_names)} class names')
    per_class = f1_per_class(conf)
    results = OrderedDict(
        (f'F1.{name}', float(value))
        for name, value in zip(class_names, per_class))
    foreground = [
        i for i in range(len(class_names)) if i not in set(background_ids)
    ]
    foreground_f1 = per_class[foreground]
    present = foreground_f1[~np.isnan(foreground_f1)]
    results['mF1'] = float(present.mean()) if present.size else float('nan')
    for group_name, class_ids in (f1_groups or {}).items():
        results[f'F1.{group_name}'] = merged_f1(conf, class_ids)
    return results


def _to_numpy(array):
    if isinstance(array, torch.Tensor):
        return array.detach().cpu().numpy()
    return np.asarray(array)
