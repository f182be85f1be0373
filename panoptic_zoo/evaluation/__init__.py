"""Evaluation: panoptic metrics for MMEngine."""
import mmdet.evaluation  # noqa: F401  (fills the parent registry)
