"""The FG (instance) branch as the segmentor runs it: RPN, then RoI head,
then the :class:`FGContext` the BG branch and the fusion head read.

Everything here takes the heads it runs as arguments: no part calls back
into the segmentor.
"""
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmdet.models.utils import empty_instances, unpack_gt_instances
from mmdet.structures import DetDataSample, SampleList
from mmdet.structures.bbox import bbox2roi, get_box_tensor
from mmdet.utils import ConfigType, InstanceList
from mmengine.structures import InstanceData
from torch import Tensor, nn

from panoptic_zoo.models.contracts import FGContext


def rpn_sample(data_sample: DetDataSample) -> DetDataSample:
    """The RPN's view of a sample: the same ground truth with every label
    0 (class-agnostic objectness), the caller's sample untouched.

    A new sample holding the same tensors and masks, not a deep copy:
    copying the full-image gt masks and semantic map took ~50 ms of a
    ~165 ms Panoptic FPN step on an H100 (2 images of 800×1216, 15
    instances), and the RPN reads only boxes and labels.
    """
    rpn = DetDataSample(metainfo=data_sample.metainfo)
    rpn.gt_instances = data_sample.gt_instances.new()  # same fields
    rpn.gt_instances.labels = torch.zeros_like(rpn.gt_instances.labels)
    if 'ignored_instances' in data_sample:
        rpn.ignored_instances = data_sample.ignored_instances
    return rpn


def rpn_loss(rpn_head: nn.Module, x: Tuple[Tensor, ...],
             batch_data_samples: SampleList, proposal_cfg: ConfigType
             ) -> Tuple[Dict[str, Tensor], InstanceList, Tuple[Tensor, ...]]:
    """RPN losses (class-agnostic targets), proposals and shared features:
    mmdet's ``loss_and_predict`` with the features kept."""
    feats = rpn_head.forward_feats(x)
    outs = rpn_head.forward_outs(feats)
    gt, ignored, metas = unpack_gt_instances(
        [rpn_sample(s) for s in batch_data_samples])
    losses = rpn_head.loss_by_feat(*outs, gt, metas, ignored)
    proposals = rpn_head.predict_by_feat(
        *outs, batch_img_metas=metas, cfg=proposal_cfg)
    # mmdet's key names, so logs and loss sums match PanopticFPN.
    for key in list(losses):
        if 'loss' in key and 'rpn' not in key:
            losses[f'rpn_{key}'] = losses.pop(key)
    return losses, proposals, feats


def rpn_predict(rpn_head: nn.Module, x: Tuple[Tensor, ...],
                batch_img_metas: List[dict]
                ) -> Tuple[InstanceList, Tuple[Tensor, ...]]:
    """Test-time proposals (input coordinates) and shared features."""
    feats = rpn_head.forward_feats(x)
    proposals = rpn_head.predict_by_feat(
        *rpn_head.forward_outs(feats),
        batch_img_metas=batch_img_metas,
        rescale=False)
    return proposals, feats


class MaskBranch:
    """The RoI head's mask branch for one forward: the context's instances
    with their mask logits, other boxes' logits, the pastes.

    Not a module: it holds the RoI head, the neck features of this forward,
    the context's instances (computed on first call) and the mask head's
    full output on them (N, K, m, m), which :meth:`paste` reads. It holds
    no reference to the FGContext, so no reference cycle keeps a step's
    features alive after the step.
    """

    def __init__(self, roi_head: nn.Module, x: Tuple[Tensor, ...],
                 instances: Callable[[], InstanceList]) -> None:
        self.roi_head, self.x = roi_head, x
        self._instances_fn = instances
        self._instances: Optional[InstanceList] = None
        self._mask_preds: Optional[Tensor] = None

    def instances(self) -> InstanceList:
        """The context's instances with ``mask_logits``; the mask head runs
        on them once."""
        if self._instances is None:
            instances = self._instances_fn()
            self._mask_preds = self._run(instances)
            self._instances = instances
        return self._instances

    def add_mask_logits(self, instances: InstanceList) -> InstanceList:
        """``mask_logits`` (N, m, m) on per-image ``bboxes`` and ``labels``
        (in place): the mask head's channel of each label (its only one if
        class-agnostic)."""
        self._run(instances)
        return instances

    def _run(self, instances: InstanceList) -> Optional[Tensor]:
        rois = bbox2roi([get_box_tensor(i.bboxes) for i in instances])
        if rois.shape[0] == 0:
            size = _mask_size(self.roi_head.mask_head)
            for inst in instances:
                inst.mask_logits = self.x[0].new_zeros((0, size, size))
            return None
        preds = self.roi_head._mask_forward(self.x, rois)['mask_preds']
        labels = torch.cat([i.labels for i in instances])
        logits = preds[:, 0] if preds.shape[1] == 1 else \
            preds[torch.arange(labels.numel()), labels]
        for inst, part in zip(instances,
                              logits.split([len(i) for i in instances])):
            inst.mask_logits = part
        return preds

    def paste(self, batch_img_metas: List[dict],
              rescale: bool) -> InstanceList:
        """Binary masks of the context's instances at image size, by the
        mask head's ``predict_by_feat``; the boxes are copied, not rescaled
        in place."""
        instances = self.instances()
        results = [
            InstanceData(
                bboxes=i.bboxes.clone(), labels=i.labels, scores=i.scores)
            for i in instances
        ]
        cfg = self.roi_head.test_cfg
        if self._mask_preds is None:
            return empty_instances(
                batch_img_metas,
                self.x[0].device,
                task_type='mask',
                instance_results=results,
                mask_thr_binary=cfg.mask_thr_binary)
        return self.roi_head.mask_head.predict_by_feat(
            mask_preds=self._mask_preds.split([len(i) for i in instances]),
            results_list=results,
            batch_img_metas=batch_img_metas,
            rcnn_test_cfg=cfg,
            rescale=rescale)


def _context(x: Tuple[Tensor, ...], proposals: InstanceList,
             rpn_feats: Tuple[Tensor, ...], roi_head: nn.Module,
             instances: Callable[[], InstanceList]) -> FGContext:
    """An FGContext whose instances get mask logits on first read."""
    masks = MaskBranch(roi_head, x, instances)
    return FGContext(
        x,
        [InstanceData(bboxes=p.bboxes, scores=p.scores) for p in proposals],
        rpn_feats,
        masks.instances,
        add_mask_logits=masks.add_mask_logits,
        paste_masks=masks.paste)


def train_context(roi_head: nn.Module, x: Tuple[Tensor, ...],
                  proposals: InstanceList, rpn_feats: Tuple[Tensor, ...],
                  batch_data_samples: SampleList) -> FGContext:
    """Training: instances are the (non-crowd) GT boxes and labels, score
    1, with the mask head's logits."""

    def gt_instances() -> InstanceList:
        return [
            InstanceData(
                bboxes=get_box_tensor(s.gt_instances.bboxes),
                labels=s.gt_instances.labels,
                scores=s.gt_instances.labels.new_ones(
                    s.gt_instances.labels.shape, dtype=torch.float))
            for s in batch_data_samples
        ]

    return _context(x, proposals, rpn_feats, roi_head, gt_instances)


def test_context(roi_head: nn.Module, x: Tuple[Tensor, ...],
                 proposals: InstanceList, rpn_feats: Tuple[Tensor, ...],
                 batch_img_metas: List[dict]) -> FGContext:
    """Test: instances are the box head's detections (input coordinates);
    the mask head runs once, on them."""
    detections = roi_head.predict_bbox(
        x, batch_img_metas, proposals, roi_head.test_cfg, rescale=False)
    return _context(x, proposals, rpn_feats, roi_head, lambda: detections)


def raw_context(roi_head: nn.Module, x: Tuple[Tensor, ...],
                proposals: InstanceList, rpn_feats: Tuple[Tensor, ...],
                bbox_outs: Tuple[Tensor, Tensor],
                batch_img_metas: List[dict]) -> FGContext:
    """Test-time context from the box head's raw outputs on all
    proposals (``cls_score`` (R, T + 1), ``bbox_pred`` (R, 4·T or 4)),
    for the tensor-only ``_forward`` (FLOP counting): the box head does
    not run a second time."""

    def detections() -> InstanceList:
        counts = [len(p) for p in proposals]
        if sum(counts) == 0:  # mmdet's empty-result path
            return roi_head.predict_bbox(
                x, batch_img_metas, proposals, roi_head.test_cfg,
                rescale=False)
        cls_scores, bbox_preds = bbox_outs
        rois = bbox2roi([get_box_tensor(p.bboxes) for p in proposals])
        return roi_head.bbox_head.predict_by_feat(
            rois=rois.split(counts),
            cls_scores=cls_scores.split(counts),
            bbox_preds=bbox_preds.split(counts),
            batch_img_metas=batch_img_metas,
            rcnn_test_cfg=roi_head.test_cfg,
            rescale=False)

    return _context(x, proposals, rpn_feats, roi_head, detections)


def _mask_size(mask_head: nn.Module) -> int:
    """Side of the mask head's logits (28 for mmdet's FCNMaskHead)."""
    roi = getattr(mask_head, 'roi_feat_size', (14, 14))
    roi = roi[0] if isinstance(roi, tuple) else roi
    return int(roi * (getattr(mask_head, 'scale_factor', 2) or 1))
