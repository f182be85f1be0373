"""AUNet's Mask Attention Module (MAM), with RoIUpsample."""
from typing import List, Optional, Sequence

import torch
from mmdet.structures.bbox import bbox2roi, get_box_tensor
from mmdet.utils import OptConfigType, OptMultiConfig
from mmengine.structures import InstanceData
from torch import Tensor

from panoptic_zoo.models.contracts import FGView
from panoptic_zoo.ops.roi_upsample import roi_upsample
from panoptic_zoo.registry import MODELS
from .base_fg_attention import BaseFGAttention


def fpn_roi_levels(rois: Tensor,
                   num_levels: int,
                   finest_scale: float = 56.0) -> Tensor:
    """Level of each RoI by FPN's rule (Lin et al., CVPR 2017, eq. 1), with
    mmdet's constants (``SingleRoIExtractor.map_roi_levels``): level 0 for
    ``sqrt(wh) < 2 * finest_scale``, one level up per doubling, clamped.

    Args:
        rois (Tensor): (K, 5) ``(batch index, x1, y1, x2, y2)``.
        num_levels (int): L.
        finest_scale (float): Scale of level 0.

    Returns:
        Tensor: (K,) int64 levels in [0, L - 1].
    """
    scale = torch.sqrt((rois[:, 3] - rois[:, 1]) * (rois[:, 4] - rois[:, 2]))
    levels = torch.floor(torch.log2(scale / finest_scale + 1e-6))
    return levels.clamp(min=0, max=num_levels - 1).long()


@MODELS.register_module()
class MAM(BaseFGAttention):
    """Mask Attention Module (AUNet, Li et al., CVPR 2019, Sec. 3.3).

    The FG branch's m×m mask of each instance (the sigmoid of its class's
    logits) is pasted back onto the BG level its box belongs to (FPN's rule,
    :func:`fpn_roi_levels`) by RoIUpsample (:func:`roi_upsample`, eq. 5-6
    with ``normalize``), overlaps summed, zero elsewhere: ``U_l``
    (B, 1, H_l, W_l). Then PAM's attention and reweight on the (PAM
    processed) BG features: ``M_l = conv1x1(ReLU(conv1x1(U_l)))``,
    ``S'_l = S_l ⊙ (1 − sigmoid(M_l)) + S_l``, ``S''_l = S'_l ⊙ N_l``.

    A plugin for ``PanopticSegmentor.attention``, placed after PAM. It
    reads ``FGContext.instances``: boxes in input (batch) coordinates and
    ``mask_logits`` (N, m, m), the mask head run on the GT boxes with the GT
    labels in training (the paper does not say which RoIs; these are
    complete and correctly labelled), on the detections at test. The masks
    are not detached: the BG loss also trains the mask head.
    Shapes: B images, level l of H_l × W_l cells, K boxes, m × m masks.

    Args:
        bg_channels (int): C_s, channels of S_l.
        num_levels (int): L, levels attended from the finest (4: P2-P5).
        strides (Sequence[int]): Input pixels per cell of each attended
            level. Defaults to FPN's (4, 8, 16, 32).
        hidden_channels (int): Width of the 1×1 conv pair (its input has
            one channel). Defaults to 16.
        finest_scale (float): FPN rule's scale of level 0 (mmdet's 56).
        sampling_ratio (int): RoIUpsample's samples per bin side (0:
            adaptive, as the mask RoIAlign).
        aligned (bool): RoIUpsample's pixel convention (mmdet's masks use
            aligned RoIAlign).
        normalize (bool): The paper's eq. 5-6 weights (True) or the exact
            adjoint of RoIAlign (False).
        reweight (bool): Apply the background reweight. Defaults to True.
        norm_cfg (dict, optional): Norm of the reweight (GN, 32 groups).
        init_cfg (dict, optional): Initialisation config.
    """

    reads = ('instances', )

    def __init__(self,
                 *,
                 bg_channels: int,
                 num_levels: int = 4,
                 strides: Sequence[int] = (4, 8, 16, 32),
                 hidden_channels: int = 16,
                 finest_scale: float = 56.0,
                 sampling_ratio: int = 0,
                 aligned: bool = True,
                 normalize: bool = False,
                 reweight: bool = True,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        if len(strides) != num_levels or any(s <= 0 for s in strides):
            raise ValueError(
                f'MAM: strides must give one positive stride per attended '
                f'level (num_levels={num_levels}), got {tuple(strides)}')
        if finest_scale <= 0 or sampling_ratio < 0:
            raise ValueError('MAM: need finest_scale > 0 and sampling_ratio '
                             f'>= 0, got finest_scale={finest_scale}, '
                             f'sampling_ratio={sampling_ratio}')
        super().__init__(
            fg_channels=1,
            bg_channels=bg_channels,
            num_levels=num_levels,
            hidden_channels=hidden_channels,
            reweight=reweight,
            norm_cfg=norm_cfg,
            init_cfg=init_cfg)
        self.strides = tuple(strides)
        self.finest_scale = finest_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned
        self.normalize = normalize

    def fg_maps(self, bg_feats: Sequence[Tensor],
                fg: FGView) -> List[Tensor]:
        """U_l, (B, 1, H_l, W_l): the FG masks pasted onto each level.

        Raises:
            ValueError: if the context has no instances with mask logits,
                or one per image is missing.
        """
        instances = self._check_instances(fg.instances, bg_feats)
        ref = bg_feats[0]
        rois = bbox2roi([get_box_tensor(i.bboxes) for i in instances])
        masks = torch.cat([i.mask_logits for i in instances])  # (K, m, m)
        probs = masks.sigmoid().to(ref.dtype)[:, None]  # (K, 1, m, m)
        levels = fpn_roi_levels(rois, self.num_levels, self.finest_scale)
        maps = []
        for level, feat in enumerate(bg_feats):
            keep = levels == level
            maps.append(
                roi_upsample(
                    probs[keep],
                    rois[keep], (feat.shape[0], ) + tuple(feat.shape[-2:]),
                    spatial_scale=1.0 / self.strides[level],
                    sampling_ratio=self.sampling_ratio,
                    aligned=self.aligned,
                    normalize=self.normalize))  # (B, 1, H_l, W_l)
        return maps

    def _check_instances(self, instances: Optional[List[InstanceData]],
                         bg_feats: Sequence[Tensor]) -> List[InstanceData]:
        if instances is None or any('mask_logits' not in i for i in instances):
            raise ValueError(
                'MAM needs FGContext.instances with bboxes (input '
                'coordinates) and mask_logits (N, m, m), as '
                'PanopticSegmentor gives them')
        if len(instances) != bg_feats[0].shape[0]:
            raise ValueError(
                f'MAM: {len(instances)} instance sets for a batch of '
                f'{bg_feats[0].shape[0]} images')
        # Strides that disagree with the neck would paste masks at the
        # wrong place with no error downstream: check the level sizes.
        base = bg_feats[0].shape[-1] * self.strides[0]
        for level, feat in enumerate(bg_feats):
            if abs(base / self.strides[level] - feat.shape[-1]) > 1:
                raise ValueError(
                    f'MAM: strides={self.strides} do not fit the BG levels\' '
                    f'widths {[f.shape[-1] for f in bg_feats]}: set strides '
                    'to the neck\'s')
        return instances
