"""One fusion-head interface: every head is called the same way, whether
it has a loss or not (a head with ``with_loss`` but no logits used to
build, then fail its first step with ``AttributeError: 'PanopticFPNHead'
object has no attribute 'loss_by_feat'``)."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config

from panoptic_zoo.models.fusion_heads import HeuristicFusionHead
from panoptic_zoo.models.semantic_heads.stuff_first import to_stuff_first
from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing import config_path

BASE = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'
CE = dict(type='CrossEntropyLoss', ignore_index=255, loss_weight=1.0)


@MODELS.register_module(force=True)
class _TrainableHeuristicFusionHead(HeuristicFusionHead):
    """Heuristic fusion with a loss of its own: cross-entropy of the merged
    (S + 1)-channel semantic logits, stuff first, every thing class → S."""

    def loss(self, fg, seg, batch_data_samples):
        merged = torch.stack(seg.merged(list(seg.seg_preds)))
        gt = torch.stack([s.gt_sem_seg.sem_seg[0]
                          for s in batch_data_samples])
        gt = to_stuff_first(gt, self.num_things_classes,
                            self.num_stuff_classes)
        gt = torch.where(gt == 255, gt, gt.clamp(max=self.num_stuff_classes))
        logits = F.interpolate(
            merged, size=gt.shape[-2:], mode='bilinear', align_corners=False)
        return dict(loss_panoptic=self.loss_panoptic(logits, gt))


def _batch(model, training):
    np.random.seed(0)
    data = demo_mm_inputs(
        batch_size=2,
        image_shapes=[(3, 64, 64)] * 2,
        num_items=[2, 3],
        num_classes=4,
        with_mask=True,
        with_semantic=True)
    for sample in data['data_samples']:
        sample.gt_sem_seg.sem_seg = sample.gt_sem_seg.sem_seg.clamp(max=6)
    return model.data_preprocessor(copy.deepcopy(data), training)


def _model(**fusion):
    cfg = Config.fromfile(config_path(BASE))
    cfg.model.panoptic_fusion_head.update(fusion)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def test_heuristic_head_with_a_loss_config_trains_as_without():
    """The confirmed bug: ``loss_panoptic`` on the heuristic head (so
    ``with_loss``) trains a step; the head adds no loss and every other
    loss is the plain head's."""
    plain, with_loss = _model(), _model(loss_panoptic=CE)
    assert with_loss.panoptic_fusion_head.with_loss
    losses = []
    for model in (plain, with_loss):
        torch.manual_seed(1)
        losses.append(model(**_batch(model, True), mode='loss'))
    plain_loss, plain_log = plain.parse_losses(losses[0])
    loss, log = with_loss.parse_losses(losses[1])
    assert torch.equal(loss, plain_loss) and log == plain_log


@pytest.mark.slow
def test_trainable_heuristic_head_trains_two_steps_and_predicts():
    model = _model(type='_TrainableHeuristicFusionHead', loss_panoptic=CE)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    head_weight = model.semantic_head.conv_logits.weight
    values = []
    for _ in range(2):
        losses = model(**_batch(model, True), mode='loss')
        loss, _ = model.parse_losses(losses)
        optimizer.zero_grad()
        losses['loss_panoptic'].backward(retain_graph=True)
        # The fusion loss reaches the semantic head through the shared
        # forward (one semantic forward per step).
        assert head_weight.grad.abs().sum() > 0
        loss.backward()
        optimizer.step()
        values.append(losses['loss_panoptic'].item())
    assert all(np.isfinite(values)) and values[1] != values[0]
    model.eval()
    with torch.no_grad():
        pred = model(**_batch(model, False), mode='predict')
    pan = pred[0].pred_panoptic_seg.sem_seg
    assert pan.shape == (1, 64, 64)
    assert ((pan % 1000) <= 7).all()  # labels in [0, T + S], void = 7
