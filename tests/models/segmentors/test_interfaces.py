"""Slot interfaces: semantic maps as heuristic fusion reads them, and the
checks of the contracts (the matrix of real parts is in
tests/composition/test_matrix.py)."""
import pytest
import torch
from mmengine.config import Config

from panoptic_zoo.models.contracts import SemanticLogits
from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing import config_path

S, T = 3, 4  # stuff, thing classes
BASE = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


def test_merged_thing_logits_keep_the_argmax():
    logits = [torch.randn(S + T, 5, 6) for _ in range(2)]  # stuff first
    seg = SemanticLogits(dict(seg_preds=torch.zeros(1, S + T, 1, 1)), S, T)
    merged = seg.merged(logits)
    for full, out in zip(logits, merged):
        assert out.shape == (S + 1, 5, 6)
        # Every thing channel maps to channel S, stuff keeps its channel.
        assert torch.equal(out.argmax(0), full.argmax(0).clamp(max=S))
    one = SemanticLogits(dict(seg_preds=torch.zeros(1, S + 1, 1, 1)), S, 1)
    assert one.merged(logits) is logits  # already S + 1: as they are
    with pytest.raises(ValueError, match='declares 3 stuff \\+ 4 thing'):
        SemanticLogits(dict(seg_preds=torch.zeros(1, S + 1, 1, 1)), S, T)


def _model_cfg(**options):
    cfg = Config.fromfile(config_path(BASE))
    cfg.merge_from_dict(options)
    return cfg.model


def test_per_class_fusion_refuses_a_merged_semantic_head():
    cfg = _model_cfg(**{
        'model.panoptic_fusion_head.type': 'UPSNetPanopticHead',
    })
    with pytest.raises(
            ValueError,
            match=r'model\.panoptic_fusion_head \(UPSNetPanopticHead\) '
            r'needs one semantic logit channel per thing class \(4\), but '
            r'model\.semantic_head \(PanopticFPNHead\) gives 1'):
        MODELS.build(cfg)


@pytest.mark.parametrize('key, part, fix', [
    ('panoptic_fusion_head', 'mmdet.HeuristicFusionHead',
     'PanopticFusionHead'),
    ('semantic_head', 'mmdet.PanopticFPNHead', 'PanopticSemanticHead'),
    ('rpn_head', 'mmdet.RPNHead', "panoptic_zoo's RPNHead"),
])
def test_parts_without_the_contract_are_refused(key, part, fix):
    """mmdet's own classes lack the slot contract: refused at build time,
    naming the part and what to use (not an AttributeError in a step)."""
    cfg = _model_cfg(**{f'model.{key}.type': part})
    with pytest.raises(ValueError) as error:
        MODELS.build(cfg)
    message = str(error.value)
    assert f'model.{key}' in message and fix in message
    assert "does not implement the slot's contract" in message
