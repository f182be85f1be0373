"""Task modules (assigners, samplers) built from ``TASK_UTILS``."""
import mmdet.models.task_modules  # noqa: F401  (fills the parent registry)

from .cached_anchor_generator import CachedAnchorGenerator
from .device_random_sampler import DeviceRandomSampler
from .sync_free_max_iou_assigner import SyncFreeMaxIoUAssigner

__all__ = [
    'CachedAnchorGenerator', 'DeviceRandomSampler', 'SyncFreeMaxIoUAssigner'
]
