"""RoI heads for PANet's adaptive feature pooling: a per-level first layer
and an element-wise fusion in front of mmdet's box and mask heads; box heads
with an exact, faster top-k test-time NMS; a mask head whose targets are
built on the device, without host syncs."""
import mmdet.models.roi_heads  # noqa: F401  (fills the parent registry)

from .adaptive_convfc_bbox_head import AdaptiveConvFCBBoxHead
from .adaptive_fcn_mask_head import AdaptiveFCNMaskHead
from .device_mask_targets import (DeviceMaskTargetsMixin, SyncFreeFCNMaskHead,
                                  device_mask_targets)
from .per_level_fusion import PerLevelFusion
from .topk_nms_bbox_head import (TopKNMSBBoxHeadMixin,
                                  TopKNMSShared2FCBBoxHead)

__all__ = [
    'AdaptiveConvFCBBoxHead', 'AdaptiveFCNMaskHead', 'DeviceMaskTargetsMixin',
    'PerLevelFusion', 'SyncFreeFCNMaskHead', 'TopKNMSBBoxHeadMixin',
    'TopKNMSShared2FCBBoxHead', 'device_mask_targets'
]
