from .panoptic_segmentor import PanopticSegmentor

__all__ = ['PanopticSegmentor']
