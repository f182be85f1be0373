"""RoI heads for PANet's adaptive feature pooling: a per-level first layer
and an element-wise fusion in front of mmdet's box and mask heads."""
import mmdet.models.roi_heads  # noqa: F401  (fills the parent registry)

from .adaptive_convfc_bbox_head import AdaptiveConvFCBBoxHead
from .adaptive_fcn_mask_head import AdaptiveFCNMaskHead
from .per_level_fusion import PerLevelFusion

__all__ = ['AdaptiveConvFCBBoxHead', 'AdaptiveFCNMaskHead', 'PerLevelFusion']
