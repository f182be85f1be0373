"""mmdet's heuristic fusion (Panoptic FPN) with the fusion slot's contract."""
from typing import List, Optional

from mmdet.models.seg_heads.panoptic_fusion_heads import \
    HeuristicFusionHead as MMDetHeuristicFusionHead
from mmdet.utils import (InstanceList, OptConfigType, OptMultiConfig,
                         PixelList)
from torch import Tensor

from panoptic_zoo.models.contracts import (FGContext, PanopticFusionHead,
                                           SemanticLogits)
from panoptic_zoo.registry import MODELS


@MODELS.register_module()
class HeuristicFusionHead(PanopticFusionHead, MMDetHeuristicFusionHead):
    """mmdet's ``HeuristicFusionHead`` (same panoptic maps) behind the
    fusion-head interface.

    It reads binary masks at image size (:meth:`FGContext.paste_masks`)
    and (S + 1)-channel semantic maps at image size
    (:meth:`SemanticLogits.merged`, so a per-thing-class semantic head
    works too). No loss of its own; a subclass that trains adds one in
    ``loss`` (``loss_panoptic`` builds ``self.loss_panoptic``). Subclasses
    change the per-image step, ``_predict_single(mask_results,
    seg_preds)``, as with mmdet's head.
    """

    def __init__(self,
                 num_things_classes: int = 80,
                 num_stuff_classes: int = 53,
                 test_cfg: OptConfigType = None,
                 loss_panoptic: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 **kwargs) -> None:
        # mmdet's __init__ fixes loss_panoptic to None: skip to its base's.
        super(MMDetHeuristicFusionHead, self).__init__(
            num_things_classes=num_things_classes,
            num_stuff_classes=num_stuff_classes,
            test_cfg=test_cfg,
            loss_panoptic=loss_panoptic,
            init_cfg=init_cfg,
            **kwargs)

    def predict(self,
                fg: FGContext,
                seg: SemanticLogits,
                batch_img_metas: Optional[List[dict]] = None,
                rescale: bool = True) -> PixelList:
        if not isinstance(fg, FGContext):
            # mmdet's own segmentors (PanopticFPN built in this scope)
            # call predict(mask_results_list, seg_preds_list).
            return self.predict_by_masks(fg, seg)
        return self.predict_by_masks(
            fg.paste_masks(batch_img_metas, rescale),
            seg.merged(seg.resized(batch_img_metas, rescale)))

    def predict_by_masks(self, mask_results_list: InstanceList,
                         seg_preds_list: List[Tensor]) -> PixelList:
        """mmdet's ``predict``: per image, results with binary ``masks``
        (N, H, W), ``labels``, ``scores`` and (S + 1, H, W) semantic maps
        at the same size."""
        return MMDetHeuristicFusionHead.predict(self, mask_results_list,
                                                seg_preds_list)
