"""Fusion heads. mmdet's ``HeuristicFusionHead`` is used as is;
``SyncFreeHeuristicFusionHead`` gives its result without host syncs."""
from .aunet_fusion_head import AUNetFusionHead
from .sync_free_heuristic_fusion_head import SyncFreeHeuristicFusionHead
from .upsnet_panoptic_head import UPSNetPanopticHead

__all__ = [
    'AUNetFusionHead', 'SyncFreeHeuristicFusionHead', 'UPSNetPanopticHead'
]
