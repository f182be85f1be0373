"""The FG→BG attention slot."""
from abc import abstractmethod
from typing import Optional, Sequence, Tuple

from mmengine.model import BaseModule
from torch import Tensor

from .fg_context import FGView


class FGAttention(BaseModule):
    """Contract of an FG→BG attention plugin.

    ``forward(bg_feats, fg) -> bg_feats``: the BG features
    (B, C_s, H_l, W_l) per level, transformed; same number of levels and
    shapes. Plugins run in config order, each on the previous one's output
    (the first on the neck's). ``fg`` is an :class:`FGView` of the
    :class:`FGContext`: ``feats`` and the fields named in :attr:`reads`,
    nothing else (reading another raises an error naming the fix).

    Declared for the build checks:

    - :attr:`reads`: FGContext fields read (``'proposals'``,
      ``'rpn_feats'``, ``'instances'``);
    - ``bg_channels`` (C_s, checked against the neck) and ``num_levels``
      (levels transformed, from the finest; checked against the neck and
      the semantic head's levels). None: not checked.
    """

    #: FGContext fields this plugin reads besides ``feats``.
    reads: Tuple[str, ...] = ()
    bg_channels: Optional[int] = None
    num_levels: Optional[int] = None

    @abstractmethod
    def forward(self, bg_feats: Sequence[Tensor],
                fg: FGView) -> Tuple[Tensor, ...]:
        """Transformed BG features."""
