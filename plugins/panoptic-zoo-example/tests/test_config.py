"""The packaged config builds a panoptic_zoo model that trains and predicts.
"""
import copy

import torch
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config

from panoptic_zoo.plugins import plugin_origin
from panoptic_zoo.registry import MODELS
from panoptic_zoo_example import (CONFIG_DIR, ProposalGateAttention,
                                  SemanticCheckFusionHead)

CONFIG = CONFIG_DIR / 'panoptic-fpn-proposal-gate_r18-tiny_fpn_2k_synthetic.py'


def test_registered_through_entry_point():
    for name in ('ProposalGateAttention', 'SemanticCheckFusionHead'):
        assert plugin_origin('model', name) == 'panoptic-zoo-example'
    assert MODELS.get('ProposalGateAttention') is ProposalGateAttention


def test_config_builds_loss_and_predict():
    cfg = Config.fromfile(str(CONFIG))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert isinstance(model.attention[0], ProposalGateAttention)
    assert isinstance(model.panoptic_fusion_head, SemanticCheckFusionHead)
    batch = demo_mm_inputs(
        batch_size=2,
        image_shapes=(3, 64, 64),
        num_items=[2, 3],
        num_classes=4,
        with_mask=True,
        with_semantic=True)
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    loss, _ = model.parse_losses(model(**data, mode='loss'))
    loss.backward()
    assert torch.isfinite(loss)
    assert model.attention[0].gate.weight.grad is not None
    model.eval()
    data = model.data_preprocessor(copy.deepcopy(batch), False)
    with torch.no_grad():
        preds = model(**data, mode='predict')
    assert preds[0].pred_panoptic_seg.sem_seg.shape == (1, 64, 64)
