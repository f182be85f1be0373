"""Cityscapes panoptic (``panoptic-zoo convert cityscapes``): 8 things,
11 stuff, read like COCO panoptic."""
from panoptic_zoo.registry import DATASETS
from .coco_panoptic import CocoPanopticDataset
from .convert.cityscapes_labels import CITYSCAPES_PANOPTIC_METAINFO


@DATASETS.register_module()
class CityscapesPanopticDataset(CocoPanopticDataset):
    """``gtFine/cityscapes_panoptic_<split>.json`` as written by
    cityscapesScripts' ``createPanopticImgs`` (or ``convert``); images in
    ``leftImg8bit/<split>/<city>/``."""
    METAINFO = CITYSCAPES_PANOPTIC_METAINFO
