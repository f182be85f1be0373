"""PANet mask head with adaptive feature pooling: conv1 per level."""
from typing import Optional

from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from torch import Tensor

from panoptic_zoo.registry import MODELS
from .device_mask_targets import DeviceMaskTargetsMixin
from ..layers import PerLevelFusion


@MODELS.register_module()
class AdaptiveFCNMaskHead(DeviceMaskTargetsMixin, FCNMaskHead):
    """mmdet's ``FCNMaskHead`` whose conv1 runs once per pyramid level.

    Liu et al., CVPR 2018, Sec. 3.2: the mask branch's first layer
    (official ``mask_conv1[l]``: 3x3 conv + GN + ReLU, own weights per level)
    is applied to each level's RoI features, and the levels are fused
    element-wise (max; ``'sum'`` as an option) before conv2. The rest is
    mmdet's ``FCNMaskHead`` (convs, deconv, per-class logits, loss,
    pasting); its mask targets are mmdet's, built on the device
    (:class:`DeviceMaskTargetsMixin`).

    With ``num_levels=None`` there is no level axis: the head is exactly
    ``FCNMaskHead`` and takes an ordinary extractor's (N, C, h, w) features,
    so heads built on this one (``FCFusionMaskHead``) work with either
    extractor.

    Args:
        num_levels (int, optional): L, the levels ``AdaptiveRoIExtractor``
            pools from; None for single-level RoI features. Defaults to 4.
        fusion (str): ``'max'`` (official) or ``'sum'``.
        **kwargs: ``FCNMaskHead`` arguments, passed on as they are; its
            constructor names every argument, so a misspelled key raises
            ``TypeError`` there.
    """

    def __init__(self,
                 *,
                 num_levels: Optional[int] = 4,
                 fusion: str = 'max',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.level_fusion = None
        if num_levels is None:
            return
        if self.num_convs < 1:
            raise ValueError(
                'AdaptiveFCNMaskHead: num_convs must be >= 1 so that conv1 '
                f'can run per level (num_levels={num_levels}), got '
                f'num_convs={self.num_convs}')
        first_conv = self.convs[0]
        del self.convs[0]
        self.level_fusion = PerLevelFusion.from_layer(
            first_conv, num_levels, fusion=fusion)

    @property
    def num_levels(self) -> Optional[int]:
        """int, optional: L, the levels fused; None without a level axis."""
        return None if self.level_fusion is None \
            else self.level_fusion.num_levels

    @property
    def roi_feat_levels(self) -> Optional[int]:
        """int, optional: L, the level axis of the RoI features read (None:
        (N, C, h, w)); the segmentor checks it against the extractor's."""
        return self.num_levels

    def fuse_levels(self, x: Tensor) -> Tensor:
        """conv1, per level, then the fusion (identity without levels).

        Args:
            x (Tensor): (N, L, C, h, w) per-level RoI features, or (N, C, h,
                w) when ``num_levels`` is None; N RoIs, L levels, C channels.

        Returns:
            Tensor: (N, C', h, w): conv1's fused output (C' =
            ``conv_out_channels``), or ``x`` itself without levels.
        """
        if self.level_fusion is None:
            if x.dim() != 4:
                raise ValueError(
                    f'{type(self).__name__}(num_levels=None) expects (N, C, '
                    f'h, w) RoI features, got {tuple(x.shape)}; set '
                    'num_levels for AdaptiveRoIExtractor features')
            return x
        if x.dim() != 5:
            raise ValueError(
                f'{type(self).__name__}(num_levels={self.num_levels}) '
                'expects (N, L, C, h, w) per-level RoI features from '
                f'AdaptiveRoIExtractor, got {tuple(x.shape)}')
        return self.level_fusion(x)

    def forward(self, x: Tensor) -> Tensor:
        """Mask logits.

        Args:
            x (Tensor): RoI features, see ``fuse_levels``.

        Returns:
            Tensor: (N, K, M, M) mask logits; K = ``num_classes`` (1 when
            class-agnostic), M the mask size (28 for 14x14 RoIs).
        """
        return super().forward(self.fuse_levels(x))
