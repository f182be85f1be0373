"""The FG branch's side of FG→BG attention: fill what plugins ask for.

An attention plugin declares what it reads from the FG branch with class
attributes; the segmentor computes only that, so a model whose plugins ask
for nothing (Panoptic FPN) runs exactly as before:

- ``needs_rpn_feats``: ``FGContext.rpn_feats``, the RPN head's per-level
  features after its 3×3 conv and ReLU (what its cls/reg convs read),
  recorded by a forward hook on ``rpn_head.rpn_conv`` while the RPN runs,
  with grad, so the BG loss reaches the RPN (AUNet's PAM);
- ``needs_fg_masks``: ``FGContext.instances`` in input (batch) coordinates
  with ``mask_logits`` (N, m, m), the mask head's logits of each box's
  class: on the GT boxes in training, on the detections at test (AUNet's
  MAM). Fusion heads that read logits already get such instances.
"""
import dataclasses
from contextlib import contextmanager
from typing import Iterator, List, Optional, Sequence, Tuple

import torch.nn.functional as F
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi, get_box_tensor, scale_boxes
from mmdet.utils import InstanceList, OptInstanceList
from mmengine.structures import InstanceData
from torch import Tensor, nn

from panoptic_zoo.structures import FGContext
from .logit_fusion import add_mask_logits


class FGContextBuilder:
    """Fills the :class:`FGContext` fields the attention plugins need.

    Not a module: it holds no parameters, only what the plugins declared and,
    while :meth:`recording` is active, the RPN features of that forward.

    Args:
        plugins (Sequence[nn.Module]): The segmentor's attention plugins.
        rpn_head (nn.Module): The RPN head (needs ``rpn_conv`` if a plugin
            reads RPN features).
        roi_head (nn.Module): The RoI head (needs a mask head with
            ``_mask_forward`` if a plugin reads FG masks).

    Raises:
        ValueError: at build time, naming the plugin and the head that
            cannot give what it needs.
    """

    def __init__(self, plugins: Sequence[nn.Module], rpn_head: nn.Module,
                 roi_head: nn.Module) -> None:
        rpn_users = [
            type(p).__name__ for p in plugins
            if getattr(p, 'needs_rpn_feats', False)
        ]
        mask_users = [
            type(p).__name__ for p in plugins
            if getattr(p, 'needs_fg_masks', False)
        ]
        if rpn_users and not isinstance(
                getattr(rpn_head, 'rpn_conv', None), nn.Module):
            raise ValueError(
                f'model.attention ({", ".join(rpn_users)}) reads the RPN '
                f'features, but model.rpn_head ({type(rpn_head).__name__}) '
                'has no rpn_conv module (use mmdet\'s RPNHead)')
        if mask_users and not (getattr(roi_head, 'with_mask', False)
                               and hasattr(roi_head, '_mask_forward')):
            raise ValueError(
                f'model.attention ({", ".join(mask_users)}) reads FG masks, '
                f'but model.roi_head ({type(roi_head).__name__}) has no mask '
                'head with _mask_forward (use a StandardRoIHead with '
                'mask_head)')
        self.needs_rpn_feats = bool(rpn_users)
        self.needs_fg_masks = bool(mask_users)
        self._recorded: Optional[List[Tensor]] = None

    @contextmanager
    def recording(self, rpn_head: nn.Module) -> Iterator[None]:
        """Record the RPN conv outputs of this block (if a plugin needs
        them); :meth:`complete` reads them."""
        if not self.needs_rpn_feats:
            yield
            return
        recorded = []
        handle = rpn_head.rpn_conv.register_forward_hook(
            lambda module, args, out: recorded.append(out))
        self._recorded = recorded
        try:
            yield
        finally:
            handle.remove()
            # Drop the references: they hold this forward's graph.
            self._recorded = None

    def complete(self, fg: FGContext) -> FGContext:
        """``fg`` with ``rpn_feats`` added if a plugin needs them.

        Raises:
            RuntimeError: if called outside :meth:`recording`, or if the RPN
                did not run on every level of ``fg.feats`` in the block.
        """
        if not self.needs_rpn_feats or fg.rpn_feats is not None:
            return fg
        if self._recorded is None:
            raise RuntimeError('FGContextBuilder.complete needs the RPN to '
                               'run inside FGContextBuilder.recording')
        num_levels = len(fg.feats)
        if len(self._recorded) < num_levels:
            raise RuntimeError(
                f'the RPN conv ran on {len(self._recorded)} levels in this '
                f'forward, the neck has {num_levels}')
        # rpn_conv runs once per level, finest first; RPNHead applies ReLU
        # after it (not in place), so these are what its cls/reg convs read.
        feats = self._recorded[-num_levels:]
        return dataclasses.replace(
            fg, rpn_feats=tuple(F.relu(feat) for feat in feats))

    def train_instances(self, roi_head: nn.Module, x: Tuple[Tensor, ...],
                        batch_data_samples: SampleList) -> OptInstanceList:
        """GT boxes and labels with the mask head's logits, if a plugin
        reads FG masks (else None).

        Returns:
            list[InstanceData], optional: per image ``bboxes`` (N, 4) in
            input coordinates, ``labels`` (N,), ``mask_logits`` (N, m, m).
        """
        if not self.needs_fg_masks:
            return None
        instances = [
            InstanceData(
                bboxes=get_box_tensor(s.gt_instances.bboxes),
                labels=s.gt_instances.labels) for s in batch_data_samples
        ]
        return add_mask_logits(roi_head, x, instances)

    def test_instances(self, roi_head: nn.Module, x: Tuple[Tensor, ...],
                       results: InstanceList, batch_img_metas: List[dict],
                       rescale: bool) -> InstanceList:
        """The detections as plugins read them: ``results`` unchanged if no
        plugin reads FG masks, else copies in input coordinates with
        ``mask_logits`` (N, m, m) (the mask head run again on the boxes).

        Args:
            roi_head (nn.Module): The RoI head.
            x (tuple[Tensor]): Neck features, (B, C, H_l, W_l) per level.
            results (list[InstanceData]): ``roi_head.predict`` output.
            batch_img_metas (list[dict]): Image metas (``scale_factor``).
            rescale (bool): Whether ``results`` are in original-image
                coordinates.
        """
        if not self.needs_fg_masks:
            return results
        instances = []
        for res, meta in zip(results, batch_img_metas):
            bboxes = get_box_tensor(res.bboxes)
            if rescale:  # undo mmdet's division by the resize factor
                bboxes = scale_boxes(bboxes, meta['scale_factor'])
            instances.append(
                InstanceData(
                    bboxes=bboxes, labels=res.labels, scores=res.scores))
        return add_mask_logits(roi_head, x, instances)

    def proposal_instances(self, roi_head: nn.Module, x: Tuple[Tensor],
                           proposals: InstanceList,
                           bbox_outs: Tuple[Tensor, Tensor],
                           batch_img_metas: List[dict]) -> OptInstanceList:
        """Detections (input coordinates) with ``mask_logits`` from the
        box head's raw outputs on the proposals, if a plugin reads FG masks
        (else None): the test-time work, for the tensor-only ``_forward``
        (FLOP counting), without running the box head a second time.

        Args:
            bbox_outs (tuple[Tensor, Tensor]): ``cls_score`` (R, T + 1) and
                ``bbox_pred`` (R, 4·T or 4) of ``roi_head.forward`` on all
                R proposals of the batch, image after image.

        Returns:
            list[InstanceData], optional: As :meth:`test_instances`.
        """
        if not self.needs_fg_masks:
            return None
        counts = [len(p) for p in proposals]
        if sum(counts) == 0:  # mmdet's empty-result path
            results = roi_head.predict_bbox(
                x, batch_img_metas, proposals, roi_head.test_cfg,
                rescale=False)
        else:
            cls_scores, bbox_preds = bbox_outs
            rois = bbox2roi([get_box_tensor(p.bboxes) for p in proposals])
            results = roi_head.bbox_head.predict_by_feat(
                rois=rois.split(counts),
                cls_scores=cls_scores.split(counts),
                bbox_preds=bbox_preds.split(counts),
                batch_img_metas=batch_img_metas,
                rcnn_test_cfg=roi_head.test_cfg,
                rescale=False)
        return self.test_instances(
            roi_head, x, results, batch_img_metas, rescale=False)
