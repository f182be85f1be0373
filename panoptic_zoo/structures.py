"""Small typed containers passed between the branches of a segmentor."""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from mmengine.structures import InstanceData
from torch import Tensor


@dataclass
class FGContext:
    """What the FG (instance) branch hands to the BG (semantic) branch.

    FG→BG attention plugins read this; heads that need none of it ignore it.
    Fields are filled as far as the FG branch of a model provides them.

    Attributes:
        feats (tuple[Tensor]): Neck features, one (B, C, H_l, W_l) per level l.
        proposals (list[InstanceData]): RPN proposals per image (``bboxes``
            (N, 4) in input coordinates, ``scores`` (N,)).
        rpn_feats (tuple[Tensor], optional): The RPN head's per-level conv
            features after its 3×3 conv, (B, C_r, H_l, W_l) each.
        instances (list[InstanceData], optional): Per-image instance results
            of the RoI head (``bboxes``, ``labels``, ``scores`` and, where the
            mask head ran, ``mask_logits`` (N, m, m)).
    """
    feats: Tuple[Tensor, ...]
    proposals: List[InstanceData]
    rpn_feats: Optional[Tuple[Tensor, ...]] = None
    instances: Optional[List[InstanceData]] = field(default=None)
