from .affinity_loss import AffinityLoss
from .balanced_edge_loss import BalancedEdgeLoss
from .boundary_weighted_cross_entropy_loss import \
    BoundaryWeightedCrossEntropyLoss
from .edge_attention_cross_entropy_loss import EdgeAttentionCrossEntropyLoss

__all__ = [
    'AffinityLoss', 'BalancedEdgeLoss', 'BoundaryWeightedCrossEntropyLoss',
    'EdgeAttentionCrossEntropyLoss'
]
