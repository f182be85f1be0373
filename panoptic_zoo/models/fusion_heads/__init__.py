"""Fusion heads. mmdet's ``HeuristicFusionHead`` is used as is."""
from .aunet_fusion_head import AUNetFusionHead
from .upsnet_panoptic_head import UPSNetPanopticHead

__all__ = ['AUNetFusionHead', 'UPSNetPanopticHead']
