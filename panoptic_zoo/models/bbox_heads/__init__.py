"""Box heads: PANet's adaptive feature pooling (a per-level first layer and
an element-wise fusion in front of mmdet's convfc head), and an exact,
faster top-k test-time NMS for mmdet's box heads."""
import mmdet.models.roi_heads  # noqa: F401  (fills the parent registry)

from .adaptive_convfc_bbox_head import AdaptiveConvFCBBoxHead
from .topk_nms_bbox_head import (TopKNMSBBoxHeadMixin,
                                 TopKNMSShared2FCBBoxHead)

__all__ = [
    'AdaptiveConvFCBBoxHead', 'TopKNMSBBoxHeadMixin',
    'TopKNMSShared2FCBBoxHead'
]
