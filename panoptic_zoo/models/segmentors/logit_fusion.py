"""The segmentor's side of fusion heads that read logits (UPSNet's).

A fusion head declares ``uses_logits = True`` to get, instead of binary
masks and post-processed semantic maps:

- from the BG branch, the semantic head's logits split by its
  ``split_logits(seg_preds) -> (stuff (..., S, H, W), things (..., T, H,
  W))``, so per-thing-class channels are required;
- from the FG branch, each instance's ``mask_logits`` (N, m, m): the mask
  head run on the boxes and the channel of each box's class.

If the fusion head also has a loss (``with_loss``), training runs the
semantic head once, takes its losses from ``loss_by_feat(outs,
batch_data_samples)`` and passes the same logits, with grad, to the fusion
head's ``loss``. :func:`check_logit_fusion` enforces this contract when
the model is built.
"""
from typing import Dict, List, Tuple

import torch
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi, get_box_tensor
from mmdet.utils import InstanceList
from mmengine.structures import PixelData
from torch import Tensor, nn

from panoptic_zoo.structures import FGContext


def uses_logits(model: nn.Module) -> bool:
    """Whether the model's fusion head reads logits."""
    return bool(getattr(model.panoptic_fusion_head, 'uses_logits', False))


def check_logit_fusion(model: nn.Module) -> None:
    """Fail at build time if a logit-reading fusion head cannot be fed.

    Raises:
        ValueError: naming the semantic or RoI head that lacks what the
            fusion head needs, and what to use instead.
    """
    if not uses_logits(model):
        return
    fusion = type(model.panoptic_fusion_head).__name__
    semantic = model.semantic_head
    missing = [
        name for name in ('split_logits', 'loss_by_feat')
        if not callable(getattr(semantic, name, None))
    ]
    if missing:
        raise ValueError(
            f'model.panoptic_fusion_head ({fusion}) needs per-thing-class '
            f'semantic logits, but model.semantic_head '
            f'({type(semantic).__name__}, '
            f'{getattr(semantic, "num_classes", "?")} channels) has no '
            f'{" / ".join(missing)}: it cannot give them (mmdet\'s '
            'PanopticFPNHead merges all thing classes into one channel). '
            'Use UPSNetSemanticHead or PanopticFPNPerClassHead.')
    roi_head = model.roi_head
    if not getattr(roi_head, 'with_mask', False) or not hasattr(
            roi_head, '_mask_forward'):
        raise ValueError(
            f'model.panoptic_fusion_head ({fusion}) needs mask logits, but '
            f'model.roi_head ({type(roi_head).__name__}) has no mask head '
            'with _mask_forward (use a StandardRoIHead with mask_head)')


def add_mask_logits(roi_head: nn.Module, x: Tuple[Tensor, ...],
                    instances_list: InstanceList) -> InstanceList:
    """Run the mask head on each instance's box; store the logits of its
    class as ``mask_logits`` (N, m, m) (a class-agnostic head's only
    channel otherwise).

    Args:
        roi_head (nn.Module): A StandardRoIHead-like head with a mask head.
        x (tuple[Tensor]): Neck features, (B, C, H_l, W_l) per level.
        instances_list (list[InstanceData]): Per image ``bboxes`` (N, 4) in
            input coordinates and ``labels`` (N,); updated in place.

    Returns:
        list[InstanceData]: ``instances_list``.
    """
    boxes = [get_box_tensor(inst.bboxes) for inst in instances_list]
    rois = bbox2roi(boxes)  # (N_total, 5)
    if rois.shape[0] == 0:
        size = _mask_size(roi_head.mask_head)
        for inst in instances_list:
            inst.mask_logits = x[0].new_zeros((0, size, size))
        return instances_list
    mask_preds = roi_head._mask_forward(x, rois)['mask_preds']  # (N, T|1,m,m)
    labels = torch.cat([inst.labels for inst in instances_list])
    if mask_preds.shape[1] == 1:
        logits = mask_preds[:, 0]
    else:
        logits = mask_preds[torch.arange(labels.numel()), labels]
    for inst, part in zip(instances_list,
                          logits.split([len(b) for b in boxes])):
        inst.mask_logits = part  # (N, m, m)
    return instances_list


def logit_fusion_loss(model: nn.Module, x: Tuple[Tensor, ...],
                      bg_feats: Tuple[Tensor, ...],
                      batch_data_samples: SampleList) -> Dict[str, Tensor]:
    """Semantic and panoptic losses with one semantic forward.

    The fusion head picks its training instances from the GT
    (``sample_instances``); the mask head runs on their boxes, without
    detaching, so the panoptic loss trains it as well as the semantic
    head.
    """
    semantic, fusion = model.semantic_head, model.panoptic_fusion_head
    outs = semantic(bg_feats)
    losses = semantic.loss_by_feat(outs, batch_data_samples)
    stuff, things = semantic.split_logits(outs['seg_preds'])
    instances = fusion.sample_instances(
        [s.gt_instances for s in batch_data_samples])
    add_mask_logits(model.roi_head, x, instances)
    losses.update(fusion.loss(stuff, things, instances, batch_data_samples))
    return losses


def logit_fusion_predict(model: nn.Module, x: Tuple[Tensor, ...],
                         proposals: InstanceList,
                         batch_data_samples: SampleList,
                         rescale: bool) -> List[PixelData]:
    """Detections with mask logits (input coordinates), semantic logits at
    the padded input size, fused by the fusion head.

    The FG→BG attention plugins see ``instances`` with ``mask_logits``.
    """
    metas = [s.metainfo for s in batch_data_samples]
    roi_head = model.roi_head
    instances = roi_head.predict_bbox(
        x, metas, proposals, roi_head.test_cfg, rescale=False)
    add_mask_logits(roi_head, x, instances)
    bg_feats = model._attend(
        FGContext(feats=x, proposals=proposals, instances=instances))
    seg_preds = model.semantic_head.predict(bg_feats, metas, rescale=False)
    seg_logits = [model.semantic_head.split_logits(s) for s in seg_preds]
    return model.panoptic_fusion_head.predict(instances, seg_logits, metas,
                                              rescale)


def _mask_size(mask_head: nn.Module) -> int:
    """Side of the mask head's logits (28 for mmdet's FCNMaskHead)."""
    roi = getattr(mask_head, 'roi_feat_size', (14, 14))
    roi = roi[0] if isinstance(roi, tuple) else roi
    return int(roi * (getattr(mask_head, 'scale_factor', 2) or 1))
