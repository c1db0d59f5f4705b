import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.builder import LOSSES


def edge_attention_cross_entropy(cls_score, label, edge_label,
                                 ignore_index=255):
    """Parsing cross-entropy averaged over the edge pixels of each image.

    Args:
        cls_score (Tensor): Logits (N, C, H, W).
        label (Tensor): Class ids (N, H, W).
        edge_label (Tensor): Edge map (N, H, W): 1 = edge, 0 = non-edge,
            ``ignore_index`` where the label is ignored.
        ignore_index (int): Label id that gives no loss. Default: 255.

    Returns:
        Tensor: Scalar, the mean over images of (sum of the cross-entropy on
        the image's edge pixels / number of its edge pixels). An image
        without edge pixels contributes 0 (the original divides by zero).
    """
    pixel_loss = F.cross_entropy(
        cls_score, label, reduction='none', ignore_index=ignore_index)
    edge_mask = (edge_label == 1).to(pixel_loss.dtype)
    per_image_sum = (pixel_loss * edge_mask).flatten(1).sum(1)
    per_image_count = edge_mask.flatten(1).sum(1).clamp(min=1)
    return (per_image_sum / per_image_count).mean()


@LOSSES.register_module()
class EdgeAttentionCrossEntropyLoss(nn.Module):
    """EAGRNet's boundary-attention parsing loss.

    The parsing cross-entropy restricted to edge pixels and normalised by the
    edge-pixel count of each image, then averaged over the batch.

    Args:
        loss_weight (float): Weight of this loss. Default: 1.0.
        loss_name (str): Key of the loss in the loss dict; must start with
            ``loss_`` to be back-propagated. Default: 'loss_edge_att'.
    """

    def __init__(self, loss_weight=1.0, loss_name='loss_edge_att'):
        super().__init__()
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
        return self.loss_weight * edge_attention_cross_entropy(
            cls_score, label, edge_label, ignore_index)

    @property
    def loss_name(self):
        """str: Key of the loss in the loss dict."""
        return self._loss_name
