import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.builder import LOSSES


def boundary_weighted_cross_entropy(cls_score, label, edge_label, alpha=50.0,
                                    ignore_index=255):
    """Cross-entropy weighted by ``1 + alpha`` on edge pixels.

    Args:
        cls_score (Tensor): Logits (N, C, H, W).
        label (Tensor): Class ids (N, H, W).
        edge_label (Tensor): Edge map (N, H, W): 1 = edge, 0 = non-edge,
            ``ignore_index`` where the label is ignored.
        alpha (float): Extra weight of edge pixels. Default: 50.0.
        ignore_index (int): Label id that gives no loss. Default: 255.

    Returns:
        Tensor: Scalar, the weighted sum divided by N*H*W. Ignored pixels
        add nothing to the sum but still count in the denominator, as in
        EHANet's ``CriterionAll``.
    """
    pixel_loss = F.cross_entropy(
        cls_score, label, reduction='none', ignore_index=ignore_index)
    pixel_weight = 1.0 + alpha * (edge_label == 1).to(pixel_loss.dtype)
    return (pixel_loss * pixel_weight).mean()


@LOSSES.register_module()
class BoundaryWeightedCrossEntropyLoss(nn.Module):
    """EHANet's weighted boundary-aware cross-entropy.

    `EHANet <https://doi.org/10.3390/app10093135>`_ multiplies the per-pixel
    parsing cross-entropy by ``1 + alpha`` on edge pixels and averages over
    all pixels of the batch, ignored ones included.

    Args:
        alpha (float): Extra weight of edge pixels. Default: 50.0.
        loss_weight (float): Weight of this loss. Default: 1.0.
        loss_name (str): Key of the loss in the loss dict; must start with
            ``loss_`` to be back-propagated. Default: 'loss_boundary_ce'.
    """

    def __init__(self, alpha=50.0, loss_weight=1.0,
                 loss_name='loss_boundary_ce'):
        super().__init__()
        if alpha < 0:
            raise ValueError(f'alpha must be >= 0, got {alpha}')
        self.alpha = alpha
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, cls_score, label, edge_label, ignore_index=255,
                **kwargs):
        """Compute the loss.

        Args:
            cls_score (Tensor): Logits (N, C, H, W).
            label (Tensor): Class ids (N, H, W).
            edge_label (Tensor): Edge map (N, H, W) with 0/1 and
                ``ignore_index``.
            ignore_index (int): Label id that gives no loss. Default: 255.

        Returns:
            Tensor: Scalar loss.
        """
        return self.loss_weight * boundary_weighted_cross_entropy(
            cls_score, label, edge_label, self.alpha, ignore_index)

    @property
    def loss_name(self):
        """str: Key of the loss in the loss dict."""
        return self._loss_name
