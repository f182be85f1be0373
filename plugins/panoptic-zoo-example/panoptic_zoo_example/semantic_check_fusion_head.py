"""Heuristic fusion that asks the semantic head whether a thing is there."""
from typing import Optional

from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from panoptic_zoo.models.fusion_heads import HeuristicFusionHead
from panoptic_zoo.registry import MODELS


def thing_agreement(masks: Tensor, seg_preds: Tensor) -> Tensor:
    """Mean semantic "thing" probability inside each instance mask.

    ``a_i = Σ_p m_i(p) · P_thing(p) / Σ_p m_i(p)`` with ``P_thing`` the
    softmax probability of the semantic head's thing channel (the last one
    in Panoptic FPN's layout). An empty mask gets 0.

    Args:
        masks (Tensor): (N, H, W) bool instance masks.
        seg_preds (Tensor): (num_stuff + 1, H, W) semantic logits, stuff
            channels first, the merged thing channel last.

    Returns:
        Tensor: (N,) agreement in [0, 1].
    """
    p_thing = seg_preds.softmax(dim=0)[-1].flatten()  # (H * W,)
    flat = masks.flatten(1).to(p_thing.dtype)  # (N, H * W)
    return (flat @ p_thing) / flat.sum(dim=1).clamp(min=1)


@MODELS.register_module()
class SemanticCheckFusionHead(HeuristicFusionHead):
    """Panoptic FPN's heuristic fusion, with instances checked against the
    semantic head.

    Each instance i gets the agreement ``a_i`` of :func:`thing_agreement`;
    instances with ``a_i < min_agreement`` are dropped (a detection where the
    semantic head sees stuff is more often a false positive than a miss of
    the semantic head) and the rest are re-ranked by ``score_i · a_i^alpha``
    before the heuristic lays the masks (higher ranks win overlaps). Then
    everything is as in mmdet's ``HeuristicFusionHead`` (Kirillov et al.,
    CVPR 2019). ``min_agreement=0, alpha=0`` gives the heuristic exactly.

    Needs the Panoptic FPN semantic layout (num_stuff + 1 channels), not the
    per-class layout of UPSNet's head.

    Args:
        num_things_classes (int): Thing classes. Defaults to 80.
        num_stuff_classes (int): Stuff classes. Defaults to 53.
        min_agreement (float): Drop instances below this agreement.
            Defaults to 0.3.
        alpha (float): Exponent of the agreement in the ranking.
            Defaults to 1.0.
        test_cfg (dict, optional): ``mask_overlap``, ``stuff_area_limit``
            as for the heuristic; filled by the segmentor.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 *,
                 num_things_classes: int = 80,
                 num_stuff_classes: int = 53,
                 min_agreement: float = 0.3,
                 alpha: float = 1.0,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            num_things_classes=num_things_classes,
            num_stuff_classes=num_stuff_classes,
            test_cfg=test_cfg,
            init_cfg=init_cfg)
        if not 0 <= min_agreement <= 1 or alpha < 0:
            raise ValueError(
                'SemanticCheckFusionHead: need 0 <= min_agreement <= 1 and '
                f'alpha >= 0, got min_agreement={min_agreement}, '
                f'alpha={alpha}')
        self.min_agreement = min_agreement
        self.alpha = alpha

    def _predict_single(self, mask_results: InstanceData, seg_preds: Tensor,
                        **kwargs) -> PixelData:
        """Check, re-rank, then fuse one image.

        Args:
            mask_results (InstanceData): ``bboxes`` (N, 4), ``labels`` (N,),
                ``scores`` (N,), ``masks`` (N, H, W) bool.
            seg_preds (Tensor): (num_stuff + 1, H, W) semantic logits.

        Returns:
            PixelData: ``sem_seg`` (1, H, W), ``label + id * OFFSET``.
        """
        if seg_preds.shape[0] != self.num_stuff_classes + 1:
            raise ValueError(
                f'SemanticCheckFusionHead needs seg_preds of '
                f'num_stuff_classes + 1 = {self.num_stuff_classes + 1} '
                f'channels (Panoptic FPN layout), got {seg_preds.shape[0]}')
        if tuple(mask_results.masks.shape[-2:]) != tuple(seg_preds.shape[1:]):
            raise ValueError(
                'SemanticCheckFusionHead: masks are '
                f'{tuple(mask_results.masks.shape[-2:])} but seg_preds '
                f'{tuple(seg_preds.shape[1:])}')
        agreement = thing_agreement(mask_results.masks, seg_preds)
        keep = agreement >= self.min_agreement
        checked = mask_results[keep]
        checked.scores = checked.scores * agreement[keep]**self.alpha
        return super()._predict_single(checked, seg_preds, **kwargs)
