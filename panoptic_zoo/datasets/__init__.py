"""Datasets: COCO panoptic glue, Cityscapes and ADE20K panoptic, the
built-in synthetic dataset, check-data and the converters."""
import mmdet.datasets  # noqa: F401  (fills the parent registries)

from .ade20k_panoptic import ADE20KPanopticDataset
from .cityscapes_panoptic import CityscapesPanopticDataset
from .coco_panoptic import CocoPanopticDataset
from .strict_loading import DataError, LoadPanopticAnnotations
from .synthetic import SYNTHETIC_METAINFO, make_synthetic_dataset
from .synthetic_panoptic import SyntheticPanopticDataset

__all__ = [
    'SYNTHETIC_METAINFO', 'make_synthetic_dataset', 'SyntheticPanopticDataset',
    'ADE20KPanopticDataset', 'CityscapesPanopticDataset',
    'CocoPanopticDataset', 'DataError', 'LoadPanopticAnnotations'
]
