"""Building blocks shared by several parts (RoI extractors and heads)."""
from .per_level_fusion import PerLevelFusion

__all__ = ['PerLevelFusion']
