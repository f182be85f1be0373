"""Semantic (BG branch) heads, all behind ``PanopticSemanticHead``:
mmdet's Panoptic FPN head, its per-thing-class variant, UPSNet's head."""
from .panoptic_fpn_head import PanopticFPNHead
from .panoptic_fpn_per_class_head import PanopticFPNPerClassHead
from .upsnet_semantic_head import UPSNetSemanticHead

__all__ = ['PanopticFPNHead', 'PanopticFPNPerClassHead', 'UPSNetSemanticHead']
