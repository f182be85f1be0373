"""mmdet's Mask R-CNN with the segmentor's wiring: the PANet instance
configs build it from a panoptic config's parts, whose head widths are
left to flow from the neck."""
from mmdet.models.detectors import MaskRCNN

from panoptic_zoo.registry import MODELS
from .wiring import fill_from_neck


@MODELS.register_module()
class WiredMaskRCNN(MaskRCNN):
    """mmdet's ``MaskRCNN`` (same modules, same state_dict keys) whose RPN
    and RoI head arguments a config leaves out are filled from the neck as
    in ``PanopticSegmentor`` (``wiring.READS``)."""

    def __init__(self, *, neck: dict, rpn_head: dict, roi_head: dict,
                 **kwargs) -> None:
        parts = fill_from_neck(
            dict(neck=neck, rpn_head=rpn_head, roi_head=roi_head))
        super().__init__(
            neck=parts['neck'],
            rpn_head=parts['rpn_head'],
            roi_head=parts['roi_head'],
            **kwargs)
