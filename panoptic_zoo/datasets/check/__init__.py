"""Validation of COCO panoptic datasets (``panoptic-zoo check-data``).

:func:`check_split` checks one split (JSON, then every image and PNG in
parallel); :func:`check_config_data` runs the JSON part on each dataset of
a config before training or testing.
"""
from .annotations import check_annotations
from .layout import SplitFiles, find_splits
from .pixels import read_png_ids, resolve_image, segment_stats
from .problems import KINDS, DataCheckError, Problem, Report
from .runner import check_split

__all__ = [
    'KINDS', 'DataCheckError', 'Problem', 'Report', 'SplitFiles',
    'check_annotations', 'check_split', 'find_splits', 'read_png_ids',
    'resolve_image', 'segment_stats'
]
