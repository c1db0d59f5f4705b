import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.builder import LOSSES


def ideal_affinity(seg_label, size, num_classes, ignore_index=255):
    """CPNet's ideal affinity map: 1 where two positions share a class.

    The label map is brought to the prior's ``size`` by nearest
    interpolation, as the official head does. Ignored pixels become an extra
    class ``num_classes``, so two ignored positions count as alike and an
    ignored and a labelled one as unlike (the official code does the same).
    Unlike the official ``squeeze_()``, a batch of one keeps its batch
    dimension.

    Args:
        seg_label (Tensor): Labels (N, 1, H, W) with ids in
            ``[0, num_classes)`` or ``ignore_index``.
        size (tuple[int, int]): (h, w) of the context prior.
        num_classes (int): Number of classes.
        ignore_index (int): Label of ignored pixels. Default: 255.

    Returns:
        Tensor: (N, h*w, h*w), float 0/1.
    """
    labels = F.interpolate(seg_label.float(), size=tuple(size),
                           mode='nearest').squeeze(1).long()
    labels[labels == ignore_index] = num_classes
    one_hot = F.one_hot(labels.flatten(1), num_classes + 1).float()
    return torch.bmm(one_hot, one_hot.transpose(1, 2))


def _bce_with_one(part):
    """Mean BCE of ``part`` against an all-ones target (log clamped at -100
    as ``F.binary_cross_entropy`` does)."""
    return F.binary_cross_entropy(part, torch.ones_like(part))


def _safe_divide(numerator, denominator):
    """``numerator / denominator`` with empty (<= 0) denominators set to 1."""
    return numerator / denominator.masked_fill(denominator <= 0, 1)


def affinity_loss(prior_map, affinity):
    """CPNet's affinity loss: a unary BCE and three global BCE terms.

    For each position (a row), with the diagonal left out of the same-class
    set: recall = prior mass on same-class positions / their number,
    specificity = (1 - prior) mass on other-class positions / their number,
    precision = prior mass on same-class positions / the row's whole prior
    mass (the diagonal included, as in the official code); each is pushed
    towards 1. A row without another same-class position has
    recall and precision 0, which the clamped log turns into a term of 100,
    as in the official code.

    Args:
        prior_map (Tensor): Context prior, probabilities (N, HW, HW).
        affinity (Tensor): Ideal affinity, 0/1 (N, HW, HW).

    Returns:
        Tensor: Scalar, the sum of the four means.
    """
    unary = F.binary_cross_entropy(prior_map, affinity)
    off_diagonal = 1 - torch.eye(affinity.size(1), dtype=affinity.dtype,
                                 device=affinity.device)
    same_class = affinity * off_diagonal
    prior_on_same = (prior_map * same_class).sum(2)
    recall = _safe_divide(prior_on_same, same_class.sum(2))
    specificity = _safe_divide(((1 - prior_map) * (1 - affinity)).sum(2),
                               (1 - affinity).sum(2))
    precision = _safe_divide(prior_on_same, prior_map.sum(2))
    return unary + _bce_with_one(recall) + _bce_with_one(specificity) + \
        _bce_with_one(precision)


@LOSSES.register_module()
class AffinityLoss(nn.Module):
    """Affinity loss of the Context Prior (`CPNet
    <https://arxiv.org/abs/2004.01547>`_), see :func:`affinity_loss`.

    The official loss runs only on CUDA (it moves its identity matrix to
    ``label.get_device()``, which is -1 on CPU); this one runs on any
    device. Only the mean reduction that the official head uses exists.

    Args:
        loss_weight (float): Weight of this loss. Default: 1.0.
        loss_name (str): Key of the loss in the loss dict; must start with
            ``loss_`` to be back-propagated. Default: 'loss_prior'.
    """

    def __init__(self, loss_weight=1.0, loss_name='loss_prior'):
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, prior_map, affinity, **kwargs):
        """Compute the loss.

        Args:
            prior_map (Tensor): Context prior, probabilities (N, HW, HW).
            affinity (Tensor): Ideal affinity (N, HW, HW), see
                :func:`ideal_affinity`.

        Returns:
            Tensor: Scalar loss.
        """
        if prior_map.shape != affinity.shape:
            raise ValueError(
                f'AffinityLoss: prior map {tuple(prior_map.shape)} and ideal '
                f'affinity {tuple(affinity.shape)} differ in shape')
        return self.loss_weight * affinity_loss(prior_map, affinity)

    @property
    def loss_name(self):
        """str: Key of the loss in the loss dict."""
        return self._loss_name
