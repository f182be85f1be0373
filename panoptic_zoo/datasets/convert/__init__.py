"""Converters to COCO panoptic (``panoptic-zoo convert``): Cityscapes,
ADE20K, a user's own COCO instances (+ semantic PNGs) and panopticapi's
two-channel PNGs. Each output is
checked by check-data before it is moved into place."""
from .ade20k import convert_ade20k
from .ade20k_classes import ADE20K_PANOPTIC_METAINFO
from .cityscapes import convert_cityscapes
from .cityscapes_labels import CITYSCAPES_PANOPTIC_METAINFO
from .instances import POLICIES, OverlapError, convert_instances
from .two_channel import convert_two_channel

__all__ = [
    'ADE20K_PANOPTIC_METAINFO', 'CITYSCAPES_PANOPTIC_METAINFO', 'POLICIES',
    'OverlapError', 'convert_ade20k', 'convert_cityscapes',
    'convert_instances', 'convert_two_channel'
]
