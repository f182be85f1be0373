"""What AUNet's PAM and MAM share: attention from a per-level FG map."""
import copy
from abc import abstractmethod
from typing import Optional, Sequence, Tuple

import torch
from mmdet.utils import OptConfigType, OptMultiConfig
from torch import Tensor, nn

from panoptic_zoo.models.contracts import FGAttention, FGView
from .background_reweight import BackgroundReweight


def suppress_foreground(bg_feat: Tensor, fg_logit: Tensor) -> Tensor:
    """``S' = S ⊙ (1 − sigmoid(M)) + S`` (AUNet eq. 2-3).

    Where the FG evidence M is high the BG feature keeps only its identity
    path; where it is low it is doubled. B images, C channels, H × W cells.

    Args:
        bg_feat (Tensor): S, (B, C, H, W).
        fg_logit (Tensor): M, (B, 1, H, W).

    Returns:
        Tensor: S', (B, C, H, W).
    """
    return bg_feat * (1 - torch.sigmoid(fg_logit)) + bg_feat


class BaseFGAttention(FGAttention):
    """FG→BG attention of AUNet (Li et al., CVPR 2019): per level l,
    ``M_l = conv1x1(ReLU(conv1x1(F_l)))`` from an FG map ``F_l``,
    ``S'_l = S_l ⊙ (1 − sigmoid(M_l)) + S_l`` and, optionally,
    the :class:`BackgroundReweight` ``S''_l = S'_l ⊙ N_l``.

    Subclasses give ``F_l`` (:meth:`fg_maps`): the RPN features (PAM) or the
    FG masks pasted back by RoIUpsample (MAM). Every level has its own
    weights (the paper indexes them by level). Only the first
    ``num_levels`` BG levels are attended (e.g. P2-P5, those the semantic
    head reads); the rest pass through, so no parameter goes unused.
    Shapes: B images, level l of H_l × W_l cells.

    Args:
        fg_channels (int): C_f, channels of F_l.
        bg_channels (int): C_s, channels of S_l.
        num_levels (int): L, BG levels attended, from the finest.
        hidden_channels (int, optional): Width of the 1×1 conv pair.
            Defaults to ``fg_channels``.
        reweight (bool): Apply the background reweight (eq. 4).
        norm_cfg (dict, optional): Norm of the reweight. Defaults to GN
            with 32 groups.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 *,
                 fg_channels: int,
                 bg_channels: int,
                 num_levels: int,
                 hidden_channels: Optional[int] = None,
                 reweight: bool = True,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        for key, value in (('fg_channels', fg_channels),
                           ('bg_channels', bg_channels), ('num_levels',
                                                          num_levels)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'{name}: {key} must be a positive int, '
                                 f'got {value!r}')
        hidden = fg_channels if hidden_channels is None else hidden_channels
        if not isinstance(hidden, int) or hidden < 1:
            raise ValueError(f'{name}: hidden_channels must be a positive '
                             f'int, got {hidden_channels!r}')
        # Declared for the segmentor's build-time checks (interfaces.py).
        self.fg_channels = fg_channels
        self.bg_channels = bg_channels
        self.num_levels = num_levels
        self.attention_convs = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(fg_channels, hidden, 1), nn.ReLU(),
                nn.Conv2d(hidden, 1, 1)) for _ in range(num_levels))
        self.reweights = None
        if reweight:
            norm = dict(type='GN', num_groups=32, requires_grad=True)
            norm = copy.deepcopy(norm_cfg) if norm_cfg is not None else norm
            self.reweights = nn.ModuleList(
                BackgroundReweight(channels=bg_channels, norm_cfg=norm)
                for _ in range(num_levels))

    @abstractmethod
    def fg_maps(self, bg_feats: Sequence[Tensor],
                fg: FGView) -> Sequence[Tensor]:
        """F_l for each attended level: (B, C_f, H_l, W_l) beside the
        (B, C_s, H_l, W_l) ``bg_feats[l]``, l < L."""

    def forward(self, bg_feats: Sequence[Tensor],
                fg: FGView) -> Tuple[Tensor, ...]:
        """Attend the first L BG levels.

        Args:
            bg_feats (Sequence[Tensor]): S_l, (B, C_s, H_l, W_l) per level;
                at least L levels.
            fg (FGView): The FG fields this plugin reads.

        Returns:
            tuple[Tensor]: S''_l (S'_l without reweight) for l < L, then the
            remaining levels unchanged; the shapes of ``bg_feats``.
        """
        if len(bg_feats) < self.num_levels:
            raise ValueError(
                f'{type(self).__name__} attends num_levels='
                f'{self.num_levels} levels but got {len(bg_feats)} BG '
                'levels: set num_levels to at most the neck\'s outputs')
        attended = tuple(bg_feats[:self.num_levels])
        maps = self.fg_maps(attended, fg)
        outs = []
        for level, (feat, fg_map) in enumerate(zip(attended, maps)):
            fg_logit = self.attention_convs[level](fg_map)  # (B, 1, H, W)
            feat = suppress_foreground(feat, fg_logit)
            if self.reweights is not None:
                feat = self.reweights[level](feat)
            outs.append(feat)
        return tuple(outs) + tuple(bg_feats[self.num_levels:])
