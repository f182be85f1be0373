"""The one meta-architecture every zoo model is built from."""
import copy
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmdet.models.detectors import TwoStageDetector
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor, nn

from panoptic_zoo.models.contracts import FGContext, SemanticLogits
from panoptic_zoo.registry import MODELS
from .class_layout import check_class_layout
from .fg_branch import (raw_context, rpn_loss, rpn_predict, test_context,
                        train_context)
from .interfaces import check_slot_interfaces
from .wiring import fill_from_neck


@MODELS.register_module()
class PanopticSegmentor(TwoStageDetector):
    """Two-branch panoptic segmentor with named, swappable slots.

    ``image → backbone → neck → feats``; the FG branch (``rpn_head`` +
    ``roi_head``) predicts instances; the BG branch (``semantic_head``) reads
    the neck features after every FG→BG ``attention`` plugin has transformed
    them (each plugin: ``(feats, FGContext) → feats``); the
    ``panoptic_fusion_head`` merges both into one panoptic map.

    Panoptic FPN (Kirillov et al., CVPR 2019) is this class with no attention
    and the heuristic fusion head; its state_dict keys, losses and
    predictions equal mmdet's ``PanopticFPN`` for the same weights, so mmdet
    checkpoints load unchanged. UPSNet, PANet and AUNet are other configs.

    One data path for every model, in training and test alike::

        x = neck(backbone(image))
        proposals, rpn_feats = rpn_head(x)
        fg = FGContext(x, proposals, rpn_feats, instances)  # FG branch
        seg = semantic_head(attention[n](...attention[0](x, fg)..., fg))
        losses / panoptic = panoptic_fusion_head.loss / predict(fg, seg)

    Every slot has a contract (``panoptic_zoo.models.contracts``,
    docs/architecture.md): the RPN head gives its shared features
    (``forward_feats``); ``fg`` has one meaning in training and test (boxes
    in input coordinates, instances with mask logits, the mask head run at
    most once on them); each attention plugin sees only the ``fg`` fields
    it declares in ``reads``; the semantic head runs once and its logits
    (:class:`SemanticLogits`, stuff first, K thing channels) serve its loss
    and the fusion head; every fusion head has ``loss(fg, seg, samples)``
    and ``predict(fg, seg, metas, rescale)``.

    What each slot gives the others (levels, channels, strides, the RoI
    feature layout, semantic channels) is declared by the parts and checked
    when the model is built (``interfaces.py``): a mismatch fails with one
    ValueError naming both config keys. Widths and strides a head's config
    leaves out are filled from the neck's ``out_channels`` and the RPN's
    anchor strides first (``wiring.READS``).

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
        # Widths and strides a head leaves out come from the neck (a copy:
        # mmdet's TwoStageDetector also updates roi_head in place).
        parts = fill_from_neck(
            dict(neck=neck, rpn_head=rpn_head, roi_head=roi_head,
                 semantic_head=semantic_head, attention=list(attention),
                 panoptic_fusion_head=panoptic_fusion_head))
        super().__init__(
            backbone=copy.deepcopy(backbone),
            neck=parts['neck'],
            rpn_head=parts['rpn_head'],
            roi_head=parts['roi_head'],
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.semantic_head = MODELS.build(parts['semantic_head'])
        fusion_cfg = parts['panoptic_fusion_head']
        fusion_cfg.update(test_cfg=test_cfg['panoptic'])
        self.panoptic_fusion_head = MODELS.build(fusion_cfg)
        # An empty ModuleList adds no state_dict keys: parity with mmdet.
        self.attention = nn.ModuleList(
            MODELS.build(cfg) for cfg in parts['attention'])

        self.num_things_classes, self.num_stuff_classes = check_class_layout(
            self)
        self.num_classes = self.num_things_classes + self.num_stuff_classes
        check_slot_interfaces(self)
        # What each plugin may read of the FGContext (FGContext.view).
        self._plugin_reads = [
            (plugin.reads, f'model.attention[{i}] ({type(plugin).__name__})')
            for i, plugin in enumerate(self.attention)
        ]
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

    # ------------------------------------------------------------- train
    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Losses of every branch for a batch.

        Args:
            batch_inputs (Tensor): (B, 3, H, W) normalised, padded images.
            batch_data_samples (list[DetDataSample]): ``gt_instances`` and
                ``gt_sem_seg`` per image.

        Returns:
            dict[str, Tensor]: ``loss_*`` entries of every branch (and the
            fusion head's, if it has any).
        """
        x = self.extract_feat(batch_inputs)
        losses, proposals, rpn_feats = rpn_loss(
            self.rpn_head, x, batch_data_samples,
            self.train_cfg.get('rpn_proposal', self.test_cfg.rpn))
        fg = train_context(self.roi_head, x, proposals, rpn_feats,
                           batch_data_samples)
        losses.update(self.roi_head.loss(x, proposals, batch_data_samples))
        seg = self._semantic(self.attend(x, fg))
        losses.update(
            self.semantic_head.loss_by_feat(seg.outs, batch_data_samples))
        losses.update(
            self.panoptic_fusion_head.loss(fg, seg, batch_data_samples))
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
        metas = [s.metainfo for s in batch_data_samples]
        x = self.extract_feat(batch_inputs)
        proposals, rpn_feats = rpn_predict(self.rpn_head, x, metas)
        fg = test_context(self.roi_head, x, proposals, rpn_feats, metas)
        seg = self._semantic(self.attend(x, fg))
        panoptic = self.panoptic_fusion_head.predict(fg, seg, metas, rescale)
        for data_sample, pred in zip(batch_data_samples, panoptic):
            data_sample.pred_panoptic_seg = pred
        return batch_data_samples

    # ------------------------------------------------------------- steps
    def attend(self, x: Tuple[Tensor, ...], fg: FGContext
               ) -> Tuple[Tensor, ...]:
        """The BG branch's features: the neck's, transformed by every
        attention plugin in order, each seeing the FG fields it reads."""
        bg_feats = x
        for plugin, reads in zip(self.attention, self._plugin_reads):
            bg_feats = tuple(plugin(bg_feats, fg.view(*reads)))
        return bg_feats

    def _semantic(self, bg_feats: Tuple[Tensor, ...]) -> SemanticLogits:
        """One semantic forward, shared by its loss and the fusion head."""
        head = self.semantic_head
        return SemanticLogits.of(head, head(bg_feats))

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: Optional[SampleList] = None) -> tuple:
        """Raw head outputs, no post-processing (for FLOP counting)."""
        metas = [s.metainfo for s in batch_data_samples]
        x = self.extract_feat(batch_inputs)
        rpn_feats = self.rpn_head.forward_feats(x)
        rpn_outs = self.rpn_head.forward_outs(rpn_feats)
        proposals = self.rpn_head.predict_by_feat(
            *rpn_outs, batch_img_metas=metas, rescale=False)
        roi_outs = self.roi_head(x, proposals)
        # (cls_score, bbox_pred[, mask_preds]): reuse the box outputs.
        fg = raw_context(self.roi_head, x, proposals, rpn_feats,
                         roi_outs[:2], metas)
        seg_outs = self.semantic_head.forward(self.attend(x, fg))
        return rpn_outs + roi_outs + (seg_outs['seg_preds'], )
