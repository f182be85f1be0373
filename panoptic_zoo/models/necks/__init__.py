"""Necks: PANet's bottom-up path augmentation."""
import mmdet.models.necks  # noqa: F401  (fills the parent registry)

from .panet_path_aug import PANetPathAug

__all__ = ['PANetPathAug']
