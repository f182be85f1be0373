"""Pictures of panoptic results: overlays with a legend, contact sheets."""
import mmdet.visualization  # noqa: F401  (fills the parent registry)

from .overlay import classes_present, colorize, draw_panoptic, legend_panel
from .palette import class_palette, instance_shade
from .panoptic_grid import panoptic_grid

__all__ = [
    'class_palette', 'classes_present', 'colorize', 'draw_panoptic',
    'instance_shade', 'legend_panel', 'panoptic_grid'
]
