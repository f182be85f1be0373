"""RoI feature extractors: PANet's adaptive feature pooling."""
import mmdet.models.roi_heads  # noqa: F401  (fills the parent registry)

from .adaptive_roi_extractor import AdaptiveRoIExtractor

__all__ = ['AdaptiveRoIExtractor']
