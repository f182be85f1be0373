"""Semantic (BG branch) heads. mmdet's ``PanopticFPNHead`` is used as is."""
from .panoptic_fpn_per_class_head import PanopticFPNPerClassHead
from .upsnet_semantic_head import UPSNetSemanticHead

__all__ = ['PanopticFPNPerClassHead', 'UPSNetSemanticHead']
