"""AUNet's Proposal Attention Module (PAM)."""
from typing import Optional, Sequence

from mmdet.utils import OptConfigType, OptMultiConfig
from torch import Tensor

from panoptic_zoo.models.contracts import FGView
from panoptic_zoo.registry import MODELS
from .base_fg_attention import BaseFGAttention


@MODELS.register_module()
class PAM(BaseFGAttention):
    """Proposal Attention Module (AUNet, Li et al., CVPR 2019, eq. 1-4).

    Per level l, with the RPN head's conv feature P_l (after its 3×3 conv
    and ReLU, the input of its cls/reg convs) and the BG feature S_l:
    ``M_l = conv1x1(ReLU(conv1x1(P_l)))``, ``M'_l = 1 − sigmoid(M_l)``,
    ``S'_l = S_l ⊙ M'_l + S_l`` and, with ``reweight``,
    ``S''_l = S'_l ⊙ sigmoid(GN(conv1x1(GAP(S'_l))))``.

    A plugin for ``PanopticSegmentor.attention``: it reads
    ``FGContext.rpn_feats`` (in training and test). The BG gradient
    reaches the RPN head through P_l, as in the paper. The width of the
    hidden 1×1 conv is not given in the paper; it defaults to C_r.
    Shapes: B images, level l of H_l × W_l cells.

    Args:
        rpn_channels (int): C_r, channels of P_l (the RPN head's
            ``feat_channels``).
        bg_channels (int): C_s, channels of S_l.
        num_levels (int): L, levels attended from the finest (4: P2-P5,
            those Panoptic FPN's semantic head reads).
        hidden_channels (int, optional): Hidden width. Defaults to C_r.
        reweight (bool): Apply the background reweight. Defaults to True.
        norm_cfg (dict, optional): Norm of the reweight (GN, 32 groups).
        init_cfg (dict, optional): Initialisation config.
    """

    reads = ('rpn_feats', )

    def __init__(self,
                 *,
                 rpn_channels: int,
                 bg_channels: int,
                 num_levels: int = 4,
                 hidden_channels: Optional[int] = None,
                 reweight: bool = True,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            fg_channels=rpn_channels,
            bg_channels=bg_channels,
            num_levels=num_levels,
            hidden_channels=hidden_channels,
            reweight=reweight,
            norm_cfg=norm_cfg,
            init_cfg=init_cfg)

    @property
    def rpn_channels(self) -> int:
        """int: C_r, channels of the RPN features PAM reads."""
        return self.fg_channels

    def fg_maps(self, bg_feats: Sequence[Tensor],
                fg: FGView) -> Sequence[Tensor]:
        """P_l, (B, C_r, H_l, W_l), for each attended level.

        Raises:
            ValueError: if the context has no RPN features, too few levels,
                or their sizes differ from the BG levels'.
        """
        if len(fg.rpn_feats) < len(bg_feats):
            raise ValueError(
                f'PAM attends {len(bg_feats)} levels but the RPN gave '
                f'{len(fg.rpn_feats)}')
        for level, (bg, rpn) in enumerate(zip(bg_feats, fg.rpn_feats)):
            if bg.shape[-2:] != rpn.shape[-2:] or bg.shape[0] != rpn.shape[0]:
                raise ValueError(
                    f'PAM level {level}: BG features {tuple(bg.shape)} and '
                    f'RPN features {tuple(rpn.shape)} differ in batch or '
                    'size: the RPN must read the same neck levels')
        return fg.rpn_feats[:len(bg_feats)]
