"""mmdet's Panoptic FPN semantic head with the semantic slot's contract."""
from typing import Dict

import torch
import torch.nn.functional as F
from mmdet.models.seg_heads import PanopticFPNHead as MMDetPanopticFPNHead
from mmdet.models.utils import interpolate_as
from mmdet.structures import SampleList
from torch import Tensor

from panoptic_zoo.models.contracts import PanopticSemanticHead
from panoptic_zoo.registry import MODELS


@MODELS.register_module()
class PanopticFPNHead(PanopticSemanticHead, MMDetPanopticFPNHead):
    """mmdet's ``PanopticFPNHead`` (same weights, logits and loss): S stuff
    channels then one channel for all things (K = 1), with
    ``loss_by_feat`` split from mmdet's ``loss``."""

    def loss_by_feat(self, outs: Dict[str, Tensor],
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Cross-entropy over S + 1 classes, every thing class mapped to
        channel S (mmdet's ``loss`` after its forward)."""
        seg_preds = outs['seg_preds']
        gt = torch.stack([s.gt_sem_seg.sem_seg for s in batch_data_samples])
        if self.seg_rescale_factor != 1.0:
            gt = F.interpolate(
                gt.float(), scale_factor=self.seg_rescale_factor,
                mode='nearest').squeeze(1)
        gt = self._set_things_to_void(gt)
        if seg_preds.shape[-2:] != gt.shape[-2:]:
            seg_preds = interpolate_as(seg_preds, gt)
        seg_preds = seg_preds.permute((0, 2, 3, 1))
        return dict(
            loss_seg=self.loss_seg(
                seg_preds.reshape(-1, self.num_classes),
                gt.reshape(-1).long()))
