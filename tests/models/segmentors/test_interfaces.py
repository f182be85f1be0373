"""Slot interfaces: semantic maps as heuristic fusion reads them, and the
fusion head's check of the semantic layout (the matrix of real parts is in
tests/composition/test_matrix.py)."""
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from panoptic_zoo.models.segmentors.interfaces import (check_fusion_head,
                                                       merged_thing_logits)
from panoptic_zoo.registry import MODELS

S, T = 3, 4  # stuff, thing classes


def _per_class_head():
    return MODELS.build(
        dict(
            type='PanopticFPNPerClassHead',
            num_things_classes=T,
            num_stuff_classes=S,
            in_channels=8,
            inner_channels=8,
            norm_cfg=dict(type='GN', num_groups=4)))


def test_merged_thing_logits_keep_the_argmax():
    logits = [torch.randn(S + T, 5, 6) for _ in range(2)]  # stuff first
    merged = merged_thing_logits(_per_class_head(), logits)
    for full, out in zip(logits, merged):
        assert out.shape == (S + 1, 5, 6)
        # Every thing channel maps to channel S, stuff keeps its channel.
        assert torch.equal(out.argmax(0), full.argmax(0).clamp(max=S))
    plain = nn.Module()  # no split_logits: maps pass through
    assert merged_thing_logits(plain, logits) is logits


def test_heuristic_fusion_refuses_an_unknown_semantic_layout():
    semantic = nn.Module()
    semantic.num_classes = S + T  # per class, but no split_logits
    model = SimpleNamespace(
        semantic_head=semantic,
        panoptic_fusion_head=MODELS.build(
            dict(
                type='HeuristicFusionHead',
                num_things_classes=T,
                num_stuff_classes=S)),
        num_stuff_classes=S)
    with pytest.raises(
            ValueError,
            match=r'model\.panoptic_fusion_head \(HeuristicFusionHead\) '
            r'reads 4 semantic channels.*model\.semantic_head \(Module, '
            r'num_classes=7\)'):
        check_fusion_head(model)
    semantic.num_classes = S + 1
    check_fusion_head(model)
