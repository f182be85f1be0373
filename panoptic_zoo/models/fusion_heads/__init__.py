"""Fusion heads, all behind one interface (``PanopticFusionHead``):
mmdet's heuristic fusion, its sync-free and AUNet variants, UPSNet's
panoptic head."""
from .aunet_fusion_head import AUNetFusionHead
from .heuristic_fusion_head import HeuristicFusionHead
from .sync_free_heuristic_fusion_head import SyncFreeHeuristicFusionHead
from .upsnet_panoptic_head import UPSNetPanopticHead

__all__ = [
    'AUNetFusionHead', 'HeuristicFusionHead', 'SyncFreeHeuristicFusionHead',
    'UPSNetPanopticHead'
]
