"""The contracts of the segmentor's extensible slots (docs/architecture.md):
what each part reads and gives, as base classes a part derives from."""
from .attention import FGAttention
from .fg_context import FIELDS, FGContext, FGView
from .fusion_head import PanopticFusionHead
from .semantic_head import PanopticSemanticHead, SemanticLogits

__all__ = [
    'FGAttention', 'FIELDS', 'FGContext', 'FGView', 'PanopticFusionHead',
    'PanopticSemanticHead', 'SemanticLogits'
]
