"""Fusion heads. mmdet's ``HeuristicFusionHead`` is used as is."""
from .upsnet_panoptic_head import UPSNetPanopticHead

__all__ = ['UPSNetPanopticHead']
