"""Proposal-gated FG→BG attention with squeeze-excitation reweighting."""
from typing import List, Sequence, Tuple

import torch
from mmengine.structures import InstanceData
from torch import Tensor, nn

from panoptic_zoo.models.contracts import FGAttention, FGView
from panoptic_zoo.registry import MODELS


def proposal_occupancy(bboxes: Tensor, scores: Tensor, size: Tuple[int, int],
                       stride: float) -> Tensor:
    """Soft union of scored boxes on a feature grid.

    ``O(p) = 1 − Π_i (1 − s_i · [p ∈ b_i])`` at the centre of every cell
    ``p`` of an (H, W) grid of the given stride: the probability that at
    least one box covers ``p`` if the boxes were independent detections with
    confidence ``s_i``. No box gives 0 everywhere.

    Args:
        bboxes (Tensor): (N, 4) boxes ``x1, y1, x2, y2`` in input pixels.
        scores (Tensor): (N,) confidences, clamped to [0, 1 − 1e-6].
        size (tuple[int, int]): (H, W) of the grid.
        stride (float): Input pixels per grid cell.

    Returns:
        Tensor: (H, W) occupancy in [0, 1], dtype of ``bboxes``.
    """
    height, width = size
    ys = (torch.arange(height, device=bboxes.device, dtype=bboxes.dtype) +
          0.5) * stride  # (H,) cell centres
    xs = (torch.arange(width, device=bboxes.device, dtype=bboxes.dtype) +
          0.5) * stride  # (W,)
    in_y = (ys[None] >= bboxes[:, 1:2]) & (ys[None] <= bboxes[:, 3:4])
    in_x = (xs[None] >= bboxes[:, 0:1]) & (xs[None] <= bboxes[:, 2:3])
    # [p ∈ b_i] is 0 or 1, so log Π_i (1 − s_i [p ∈ b_i]) =
    # Σ_i [y ∈ b_i] log(1 − s_i) [x ∈ b_i]: one (H, N) @ (N, W) product
    # instead of an (N, H, W) tensor. s is kept below 1 so the log is finite.
    log_miss = torch.log1p(-scores.clamp(0, 1 - 1e-6))  # (N,)
    log_none = (in_y.to(bboxes.dtype).t() * log_miss) @ in_x.to(
        bboxes.dtype)  # (H, W)
    return 1 - torch.exp(log_none)


@MODELS.register_module()
class ProposalGateAttention(FGAttention):
    """BG attention gated by the RPN proposals, then channel reweighting.

    A plugin for ``PanopticSegmentor.attention``. Per level l, with BG
    features ``S_l`` (B, C, H_l, W_l) of stride ``σ_l``:

    1. ``O_l`` = :func:`proposal_occupancy` of each image's ``top_k`` RPN
       proposals (boxes and objectness) — where the FG branch expects things.
    2. Spatial gate ``A_l = sigmoid(w · O_l + conv1x1(S_l))`` (one channel,
       ``w`` a learned scalar) and, as in AUNet's PAM (eq. 2), BG features
       kept where FG is unlikely: ``S'_l = S_l ⊙ (1 − A_l) + S_l``.
    3. Squeeze-excitation (Hu et al., CVPR 2018):
       ``N_l = sigmoid(W_2 ReLU(W_1 GAP(S'_l)))`` with ``W_1: C → C/r``,
       ``W_2: C/r → C``; ``S''_l = S'_l ⊙ N_l``.

    Differs from PAM: the FG evidence is the proposals' boxes, not the RPN
    features, and one set of weights serves every level.
    At initialisation the gate ignores the features (zero conv weights) and
    reads the occupancy only: ``A = sigmoid(4 · O − 2)``.

    Args:
        bg_channels (int): C, channels of every BG level.
        strides (Sequence[int]): σ_l of each level, one per BG level.
            Defaults to FPN's (4, 8, 16, 32, 64).
        top_k (int): Proposals per image used, highest objectness first.
            Defaults to 100.
        reduction (int): r, the SE bottleneck ratio. Defaults to 4.
        init_cfg (dict, optional): Initialisation config.
    """

    reads = ('proposals', )

    def __init__(self,
                 *,
                 bg_channels: int,
                 strides: Sequence[int] = (4, 8, 16, 32, 64),
                 top_k: int = 100,
                 reduction: int = 4,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(bg_channels, int) or bg_channels < 1:
            raise ValueError('ProposalGateAttention: bg_channels must be a '
                             f'positive int, got {bg_channels!r}')
        if not strides or any(s <= 0 for s in strides):
            raise ValueError('ProposalGateAttention: strides must be '
                             f'positive, one per level, got {strides!r}')
        if top_k < 0 or reduction < 1:
            raise ValueError('ProposalGateAttention: need top_k >= 0 and '
                             f'reduction >= 1, got top_k={top_k}, '
                             f'reduction={reduction}')
        self.bg_channels = bg_channels  # checked against the neck
        self.strides = tuple(strides)
        self.top_k = top_k
        self.gate = nn.Conv2d(bg_channels, 1, 1)
        nn.init.zeros_(self.gate.weight)
        nn.init.constant_(self.gate.bias, -2.0)
        self.occupancy_weight = nn.Parameter(torch.tensor(4.0))
        hidden = max(bg_channels // reduction, 1)
        self.reweight = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(bg_channels, hidden, 1),
            nn.ReLU(inplace=True), nn.Conv2d(hidden, bg_channels, 1),
            nn.Sigmoid())

    def _occupancy(self, proposals: List[InstanceData], feat: Tensor,
                   stride: int) -> Tensor:
        """(B, 1, H_l, W_l) occupancy of each image's top-k proposals."""
        maps = []
        for props in proposals:
            bboxes = props.bboxes
            scores = props.scores.detach()
            keep = scores.argsort(descending=True)[:self.top_k]
            maps.append(
                proposal_occupancy(bboxes.detach()[keep].to(feat),
                                   scores[keep].to(feat), feat.shape[-2:],
                                   stride))
        return torch.stack(maps)[:, None]  # (B, 1, H_l, W_l)

    def forward(self, bg_feats: Tuple[Tensor, ...],
                fg: FGView) -> Tuple[Tensor, ...]:
        """Attend every BG level.

        Args:
            bg_feats (tuple[Tensor]): (B, C, H_l, W_l) per level l.
            fg (FGView): Its ``proposals`` (B images, ``bboxes`` (N, 4)
                in input pixels, ``scores`` (N,)) are read.

        Returns:
            tuple[Tensor]: Same shapes as ``bg_feats``.
        """
        if len(bg_feats) != len(self.strides):
            raise ValueError(
                f'ProposalGateAttention got {len(bg_feats)} BG levels but '
                f'strides={self.strides} names {len(self.strides)}: set '
                'strides to the neck\'s output strides')
        if len(fg.proposals) != bg_feats[0].shape[0]:
            raise ValueError(
                f'ProposalGateAttention: {len(fg.proposals)} proposal sets '
                f'for a batch of {bg_feats[0].shape[0]} images')
        outs = []
        for feat, stride in zip(bg_feats, self.strides):
            occupancy = self._occupancy(fg.proposals, feat, stride)
            gate = torch.sigmoid(self.occupancy_weight * occupancy +
                                 self.gate(feat))  # (B, 1, H_l, W_l)
            feat = feat * (1 - gate) + feat
            outs.append(feat * self.reweight(feat))  # (B, C, 1, 1) weights
        return tuple(outs)
