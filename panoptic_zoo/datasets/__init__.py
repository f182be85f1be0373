"""Datasets: COCO panoptic glue and the built-in synthetic dataset."""
import mmdet.datasets  # noqa: F401  (fills the parent registries)

from .synthetic import SYNTHETIC_METAINFO, make_synthetic_dataset
from .synthetic_panoptic import SyntheticPanopticDataset

__all__ = [
    'SYNTHETIC_METAINFO', 'make_synthetic_dataset', 'SyntheticPanopticDataset'
]
