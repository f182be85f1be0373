from .panoptic_segmentor import PanopticSegmentor
from .wired_mask_rcnn import WiredMaskRCNN

__all__ = ['PanopticSegmentor', 'WiredMaskRCNN']
