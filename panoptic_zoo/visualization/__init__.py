"""Pictures of panoptic results."""
import mmdet.visualization  # noqa: F401  (fills the parent registry)

from .panoptic_grid import colorize_panoptic, panoptic_grid

__all__ = ['colorize_panoptic', 'panoptic_grid']
