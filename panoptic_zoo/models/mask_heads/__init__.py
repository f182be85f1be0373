"""Mask heads: PANet's adaptive feature pooling and fully-connected fusion
mask heads, and mask targets built on the device without host syncs."""
import mmdet.models.roi_heads  # noqa: F401  (fills the parent registry)

from .adaptive_fcn_mask_head import AdaptiveFCNMaskHead
from .device_mask_targets import (DeviceMaskTargetsMixin, SyncFreeFCNMaskHead,
                                  device_mask_targets)
from .fc_fusion_mask_head import FCFusionMaskHead

__all__ = [
    'AdaptiveFCNMaskHead', 'DeviceMaskTargetsMixin', 'FCFusionMaskHead',
    'SyncFreeFCNMaskHead', 'device_mask_targets'
]
