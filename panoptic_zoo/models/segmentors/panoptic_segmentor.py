"""The one meta-architecture every zoo model is built from."""
import copy
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmdet.models.detectors import TwoStageDetector
from mmdet.structures import DetDataSample, SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor, nn

from panoptic_zoo.registry import MODELS
from panoptic_zoo.structures import FGContext
from .class_layout import check_class_layout
from .fg_context import FGContextBuilder
from .interfaces import check_slot_interfaces, merged_thing_logits
from .logit_fusion import (logit_fusion_loss, logit_fusion_predict,
                           uses_logits)


@MODELS.register_module()
class PanopticSegmentor(TwoStageDetector):
    """Two-branch panoptic segmentor with named, swappable slots.

    ``image → backbone → neck → feats``; the FG branch (``rpn_head`` +
    ``roi_head``) predicts instances; the BG branch (``semantic_head``) reads
    the neck features after every FG→BG ``attention`` plugin has transformed
    them (each plugin: ``(feats, FGContext) → feats``); the
    ``panoptic_fusion_head`` merges both into one panoptic map.

    Panoptic FPN (Kirillov et al., CVPR 2019) is this class with no attention
    and mmdet's ``HeuristicFusionHead``; its state_dict keys, losses and
    predictions equal mmdet's ``PanopticFPN`` for the same weights, so mmdet
    checkpoints load unchanged. UPSNet, PANet and AUNet are other configs.

    Fusion heads that read logits (``uses_logits = True``, e.g.
    ``UPSNetPanopticHead``) get another interface, in ``logit_fusion.py``:
    at test, detections in input coordinates with ``mask_logits`` (N, m, m)
    and the semantic logits split into stuff and per-thing-class blocks by
    ``semantic_head.split_logits``; in training, if the fusion head has a
    loss (``with_loss``), the semantic head runs once, its losses come from
    ``semantic_head.loss_by_feat`` and the same logits go, with grad, to
    ``panoptic_fusion_head.loss`` together with the mask head's logits on
    the GT boxes the fusion head sampled. Heads that cannot give this fail
    at build time.

    Attention plugins declare what they read beyond the neck features and
    proposals (``needs_rpn_feats``, ``needs_fg_masks``, e.g. AUNet's PAM and
    MAM); ``fg_context.py`` fills those ``FGContext`` fields, and only
    those, in training and test.

    What each slot gives the others (levels, channels, strides, the RoI
    feature layout, semantic channels) is declared by the parts and checked
    when the model is built (``interfaces.py``): a mismatch fails with one
    ValueError naming both config keys.

    Args:
        backbone (dict): Backbone config.
        neck (dict): Neck config (FPN, PANet path augmentation, ...).
        rpn_head (dict): RPN head config.
        roi_head (dict): RoI head config (box + mask branch).
        semantic_head (dict): BG branch config.
        panoptic_fusion_head (dict): Fusion head config; it receives
            ``test_cfg.panoptic`` as its ``test_cfg``.
        attention (list[dict]): FG→BG attention plugins, applied in order.
            Empty for Panoptic FPN.
        train_cfg (dict, optional): ``rpn``, ``rpn_proposal``, ``rcnn``.
        test_cfg (dict): ``rpn``, ``rcnn``, ``panoptic``.
        channels_last (bool): Run the backbone and neck in the NHWC memory
            format (tensor-core convolutions under AMP without cuDNN's
            layout conversions); the heads get NCHW maps, as mmcv's
            ``roi_align`` reads NCHW memory. Same outputs. Defaults to
            False.
        data_preprocessor (dict, optional): Data preprocessor config.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 *,
                 backbone: ConfigType,
                 neck: ConfigType,
                 rpn_head: ConfigType,
                 roi_head: ConfigType,
                 semantic_head: ConfigType,
                 panoptic_fusion_head: ConfigType,
                 attention: Sequence[ConfigType] = (),
                 train_cfg: OptConfigType = None,
                 test_cfg: ConfigType,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 channels_last: bool = False) -> None:
        if 'panoptic' not in test_cfg:
            raise KeyError('model.test_cfg.panoptic is required: it holds '
                           "the fusion head's test settings")
        # mmdet's TwoStageDetector updates roi_head in place: copy first.
        super().__init__(
            backbone=copy.deepcopy(backbone),
            neck=copy.deepcopy(neck),
            rpn_head=copy.deepcopy(rpn_head),
            roi_head=copy.deepcopy(roi_head),
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.semantic_head = MODELS.build(semantic_head)
        fusion_cfg = copy.deepcopy(panoptic_fusion_head)
        fusion_cfg.update(test_cfg=test_cfg['panoptic'])
        self.panoptic_fusion_head = MODELS.build(fusion_cfg)
        # An empty ModuleList adds no state_dict keys: parity with mmdet.
        self.attention = nn.ModuleList(
            MODELS.build(cfg) for cfg in attention)

        self.num_things_classes, self.num_stuff_classes = check_class_layout(
            self)
        self.num_classes = self.num_things_classes + self.num_stuff_classes
        check_slot_interfaces(self)
        # Computes the FGContext fields the plugins ask for, and only those.
        self.fg_context = FGContextBuilder(self.attention, self.rpn_head,
                                           self.roi_head)
        self.channels_last = channels_last
        if channels_last:
            # In-place initialisation and checkpoint loading keep strides.
            self.backbone.to(memory_format=torch.channels_last)
            self.neck.to(memory_format=torch.channels_last)

    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor]:
        """Neck features, (B, C, H_l, W_l) per level, NCHW-contiguous."""
        if not self.channels_last:
            return super().extract_feat(batch_inputs)
        x = self.neck(
            self.backbone(
                batch_inputs.contiguous(memory_format=torch.channels_last)))
        return tuple(level.contiguous() for level in x)

    # ------------------------------------------------------------- branches
    def _rpn_loss(self, x: Tuple[Tensor], batch_data_samples: SampleList
                  ) -> Tuple[Dict[str, Tensor], list]:
        """RPN losses (class-agnostic targets) and proposals for training."""
        proposal_cfg = self.train_cfg.get('rpn_proposal', self.test_cfg.rpn)
        rpn_data_samples = [rpn_sample(s) for s in batch_data_samples]
        rpn_losses, proposals = self.rpn_head.loss_and_predict(
            x, rpn_data_samples, proposal_cfg=proposal_cfg)
        # mmdet's key names, so logs and loss sums match PanopticFPN.
        for key in list(rpn_losses):
            if 'loss' in key and 'rpn' not in key:
                rpn_losses[f'rpn_{key}'] = rpn_losses.pop(key)
        return rpn_losses, proposals

    def _attend(self, fg: FGContext) -> Tuple[Tensor]:
        """Run the FG→BG attention plugins over the BG branch's features."""
        fg = self.fg_context.complete(fg)
        bg_feats = fg.feats
        for plugin in self.attention:
            bg_feats = tuple(plugin(bg_feats, fg))
        return bg_feats

    # ------------------------------------------------------------- train
    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Losses of every branch for a batch.

        Args:
            batch_inputs (Tensor): (B, 3, H, W) normalised, padded images.
            batch_data_samples (list[DetDataSample]): ``gt_instances`` and
                ``gt_sem_seg`` per image.

        Returns:
            dict[str, Tensor]: ``loss_*`` entries of every branch
            (``loss_panoptic`` too when the fusion head is trainable).
        """
        x = self.extract_feat(batch_inputs)
        with self.fg_context.recording(self.rpn_head):
            losses, proposals = self._rpn_loss(x, batch_data_samples)
            losses.update(self.roi_head.loss(x, proposals, batch_data_samples))
            instances = self.fg_context.train_instances(
                self.roi_head, x, batch_data_samples)
            bg_feats = self._attend(
                FGContext(feats=x, proposals=proposals, instances=instances))
        if self.panoptic_fusion_head.with_loss:
            losses.update(
                logit_fusion_loss(self, x, bg_feats, batch_data_samples))
        else:
            losses.update(
                self.semantic_head.loss(bg_feats, batch_data_samples))
        return losses

    # ------------------------------------------------------------- test
    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Panoptic prediction for a batch.

        Returns:
            list[DetDataSample]: each with ``pred_panoptic_seg.sem_seg`` of
            shape (1, H, W) (``label + instance_id * INSTANCE_OFFSET``, void
            = ``num_classes``) in original-image size when ``rescale``.
        """
        batch_img_metas = [s.metainfo for s in batch_data_samples]
        x = self.extract_feat(batch_inputs)
        with self.fg_context.recording(self.rpn_head):
            proposals = self.rpn_head.predict(
                x, batch_data_samples, rescale=False)
            if uses_logits(self):
                panoptic = logit_fusion_predict(self, x, proposals,
                                                batch_data_samples, rescale)
            else:
                instances = self.roi_head.predict(
                    x, proposals, batch_data_samples, rescale=rescale)
                fg_instances = self.fg_context.test_instances(
                    self.roi_head, x, instances, batch_img_metas, rescale)
                bg_feats = self._attend(
                    FGContext(
                        feats=x, proposals=proposals, instances=fg_instances))
                seg_preds = self.semantic_head.predict(bg_feats,
                                                       batch_img_metas,
                                                       rescale)
                # (S + T) per-class logits → the (S + 1) maps fusion reads.
                seg_preds = merged_thing_logits(self.semantic_head, seg_preds)
                panoptic = self.panoptic_fusion_head.predict(
                    instances, seg_preds)
        for data_sample, pred in zip(batch_data_samples, panoptic):
            data_sample.pred_panoptic_seg = pred
        return batch_data_samples

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: Optional[SampleList] = None) -> tuple:
        """Raw head outputs, no post-processing (for FLOP counting)."""
        x = self.extract_feat(batch_inputs)
        with self.fg_context.recording(self.rpn_head):
            rpn_outs = self.rpn_head.forward(x)
            batch_img_metas = [s.metainfo for s in batch_data_samples]
            proposals = self.rpn_head.predict_by_feat(
                *rpn_outs, batch_img_metas=batch_img_metas, rescale=False)
            roi_outs = self.roi_head(x, proposals)
            # (cls_score, bbox_pred[, mask_preds]): reuse the box outputs.
            instances = self.fg_context.proposal_instances(
                self.roi_head, x, proposals, roi_outs[:2], batch_img_metas)
            bg_feats = self._attend(
                FGContext(feats=x, proposals=proposals, instances=instances))
        seg_outs = self.semantic_head.forward(bg_feats)
        return rpn_outs + roi_outs + (seg_outs['seg_preds'], )


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
