"""ADE20K panoptic (``panoptic-zoo convert ade20k``): 100 things, 50
stuff, read like COCO panoptic."""
from panoptic_zoo.registry import DATASETS
from .coco_panoptic import CocoPanopticDataset
from .convert.ade20k_classes import ADE20K_PANOPTIC_METAINFO


@DATASETS.register_module()
class ADE20KPanopticDataset(CocoPanopticDataset):
    """``ade20k_panoptic_<split>.json`` + PNG folder in
    ``ADEChallengeData2016/``, as the ADE20K panoptic benchmark's script
    (or ``convert``) writes them; images in ``images/<training|validation>``.
    """
    METAINFO = ADE20K_PANOPTIC_METAINFO
