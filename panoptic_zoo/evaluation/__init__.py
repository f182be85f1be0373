"""Evaluation: panoptic metrics for MMEngine."""
import mmdet.evaluation  # noqa: F401  (fills the parent registry)

from .panoptic_quality import PanopticQuality

__all__ = ['PanopticQuality']
