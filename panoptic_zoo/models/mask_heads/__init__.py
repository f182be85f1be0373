"""Mask heads: PANet's fully-connected fusion mask head."""
import mmdet.models.roi_heads  # noqa: F401  (fills the parent registry)

from .fc_fusion_mask_head import FCFusionMaskHead

__all__ = ['FCFusionMaskHead']
