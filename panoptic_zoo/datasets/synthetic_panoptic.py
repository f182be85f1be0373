"""The built-in dataset, loaded by mmdet's COCO panoptic code path."""
from panoptic_zoo.registry import DATASETS
from .coco_panoptic import CocoPanopticDataset
from .synthetic import SYNTHETIC_METAINFO


@DATASETS.register_module()
class SyntheticPanopticDataset(CocoPanopticDataset):
    """Files written by :func:`make_synthetic_dataset`, read exactly like
    COCO panoptic.

    Only the class list differs from :class:`CocoPanopticDataset`: it comes
    from the generator (4 thing, 3 stuff classes), the one source of truth
    that configs, heads and metrics read.
    """
    METAINFO = SYNTHETIC_METAINFO
