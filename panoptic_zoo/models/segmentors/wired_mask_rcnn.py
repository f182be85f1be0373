"""The FG branch of a panoptic config as mmdet's Mask R-CNN: the PANet
instance configs inherit a panoptic config and evaluate its detector."""
from typing import Optional, Sequence

from mmdet.models.detectors import MaskRCNN

from panoptic_zoo.registry import MODELS
from .wiring import fill_from_neck


@MODELS.register_module()
class WiredMaskRCNN(MaskRCNN):
    """mmdet's ``MaskRCNN`` (same modules, same state_dict keys) built from
    a ``PanopticSegmentor`` config: RPN and RoI head arguments the config
    leaves out are filled from the neck as in the segmentor
    (``wiring.READS``).

    Args:
        neck, rpn_head, roi_head (dict): As mmdet's.
        semantic_head, panoptic_fusion_head (dict, optional),
        attention (list[dict]): The BG branch of the panoptic config this
            one inherits. A Mask R-CNN has none: they are accepted so that
            a config can change the type of a panoptic model, and are not
            built.
        **kwargs: mmdet's ``MaskRCNN`` arguments.
    """

    def __init__(self,
                 *,
                 neck: dict,
                 rpn_head: dict,
                 roi_head: dict,
                 semantic_head: Optional[dict] = None,
                 panoptic_fusion_head: Optional[dict] = None,
                 attention: Sequence[dict] = (),
                 **kwargs) -> None:
        parts = fill_from_neck(
            dict(neck=neck, rpn_head=rpn_head, roi_head=roi_head))
        super().__init__(
            neck=parts['neck'],
            rpn_head=parts['rpn_head'],
            roi_head=parts['roi_head'],
            **kwargs)
