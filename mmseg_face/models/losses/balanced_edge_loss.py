import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.builder import LOSSES


def balanced_edge_cross_entropy(edge_score, edge_label, ignore_index=255):
    """Two-class edge cross-entropy with per-batch class balancing.

    The edge class is weighted by the non-edge fraction of the batch and the
    non-edge class by the edge fraction; the weighted sum is divided by the
    sum of the target weights, as ``F.cross_entropy(weight=...)`` does.
    (mmseg's ``CrossEntropyLoss(class_weight=...)`` divides by the pixel
    count instead.)

    Args:
        edge_score (Tensor): Edge logits (N, 2, H, W).
        edge_label (Tensor): Edge map (N, H, W): 1 = edge, 0 = non-edge,
            ``ignore_index`` = not counted.
        ignore_index (int): Value of ignored pixels. Default: 255.

    Returns:
        Tensor: Scalar loss; zero when the batch holds only one of the two
        classes, where the balancing weights leave nothing to average.
    """
    num_edge = (edge_label == 1).sum()
    num_non_edge = (edge_label == 0).sum()
    if num_edge == 0 or num_non_edge == 0:
        return edge_score.sum() * 0
    total = (num_edge + num_non_edge).to(edge_score.dtype)
    class_weight = torch.stack([num_edge / total, num_non_edge / total])
    return F.cross_entropy(
        edge_score,
        edge_label,
        weight=class_weight.to(edge_score.dtype),
        ignore_index=ignore_index)


@LOSSES.register_module()
class BalancedEdgeLoss(nn.Module):
    """Class-balanced binary edge loss of EHANet and EAGRNet.

    Args:
        loss_weight (float): Weight of this loss. Default: 1.0.
        loss_name (str): Key of the loss in the loss dict; must start with
            ``loss_`` to be back-propagated. Default: 'loss_edge'.
    """

    def __init__(self, loss_weight=1.0, loss_name='loss_edge'):
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, edge_score, edge_label, ignore_index=255, **kwargs):
        """Compute the loss.

        Args:
            edge_score (Tensor): Edge logits (N, 2, H, W).
            edge_label (Tensor): Edge map (N, H, W) with 0/1 and
                ``ignore_index``.
            ignore_index (int): Value of ignored pixels. Default: 255.

        Returns:
            Tensor: Scalar loss.
        """
        if edge_score.size(1) != 2:
            raise ValueError('BalancedEdgeLoss expects 2-channel edge logits, '
                             f'got shape {tuple(edge_score.shape)}')
        return self.loss_weight * balanced_edge_cross_entropy(
            edge_score, edge_label, ignore_index)

    @property
    def loss_name(self):
        """str: Key of the loss in the loss dict."""
        return self._loss_name
