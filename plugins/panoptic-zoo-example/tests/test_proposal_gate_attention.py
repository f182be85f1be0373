"""ProposalGateAttention: occupancy math, shapes, gradients, bad input."""
import pytest
import torch
from mmengine.structures import InstanceData

from panoptic_zoo.models.contracts import FGContext
from panoptic_zoo.registry import MODELS
from panoptic_zoo_example import ProposalGateAttention, proposal_occupancy

STRIDES = (4, 8, 16, 32, 64)


def _feats(batch=2, channels=8, size=64):
    return tuple(
        torch.randn(batch, channels, size // s, size // s, requires_grad=True)
        for s in STRIDES)


def _proposals(*per_image):
    out = []
    for boxes, scores in per_image:
        props = InstanceData()
        props.bboxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        props.scores = torch.tensor(scores, dtype=torch.float32)
        out.append(props)
    return out


def test_occupancy_is_soft_union_of_boxes():
    boxes = torch.tensor([[0., 0., 16., 16.], [8., 8., 32., 32.]])
    occ = proposal_occupancy(boxes, torch.tensor([0.5, 0.5]), (8, 8), 4)
    assert occ.shape == (8, 8)
    assert occ[0, 0] == pytest.approx(0.5)  # centre (2, 2): first box only
    assert occ[3, 3] == pytest.approx(0.75)  # (14, 14): 1 - 0.5 * 0.5
    assert occ[7, 7] == pytest.approx(0.5)  # (30, 30): second box only
    sure = proposal_occupancy(boxes, torch.tensor([1., 1.]), (8, 8), 4)
    assert sure[3, 3] == pytest.approx(1.0)
    outside = proposal_occupancy(boxes[:1], torch.tensor([1.]), (8, 8), 4)
    assert outside[5:, 5:].abs().sum() == 0
    empty = proposal_occupancy(torch.zeros(0, 4), torch.zeros(0), (3, 5), 8)
    assert torch.equal(empty, torch.zeros(3, 5))


def test_forward_shapes_and_gradients():
    attn = MODELS.build(dict(type='ProposalGateAttention', bg_channels=8))
    assert isinstance(attn, ProposalGateAttention)
    feats = _feats()
    fg = FGContext(
        feats=feats, proposals=_proposals(([[0, 0, 30, 30]], [0.9]), ([], [])))
    outs = attn(feats, fg)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    sum(o.sum() for o in outs).backward()
    assert attn.gate.weight.grad.abs().sum() > 0
    assert attn.occupancy_weight.grad.abs() > 0
    assert all(f.grad is not None for f in feats)


def test_proposals_change_the_features():
    attn = ProposalGateAttention(bg_channels=8)
    feats = tuple(f.detach() for f in _feats(batch=1))
    none = attn(feats, FGContext(feats, _proposals(([], []))))
    one = attn(feats, FGContext(feats, _proposals(([[0, 0, 64, 64]], [1.]))))
    # Everything covered for sure: the gate closes further, features shrink.
    assert one[0].abs().sum() < none[0].abs().sum()


def test_top_k_keeps_best_proposals():
    attn = ProposalGateAttention(bg_channels=8, top_k=1)
    feat = torch.zeros(1, 8, 4, 4)
    occ = attn._occupancy(
        _proposals(([[0, 0, 8, 8], [8, 8, 16, 16]], [0.2, 0.9])), feat, 4)
    assert occ[0, 0, 0, 0] == 0 and occ[0, 0, 3, 3] == pytest.approx(0.9)


def test_bad_config_and_input():
    with pytest.raises(ValueError, match='bg_channels'):
        ProposalGateAttention(bg_channels=0)
    with pytest.raises(ValueError, match='strides'):
        ProposalGateAttention(bg_channels=8, strides=())
    attn = ProposalGateAttention(bg_channels=8, strides=(4, 8))
    feats = _feats()
    with pytest.raises(ValueError, match='5 BG levels'):
        attn(feats, FGContext(feats, _proposals(([], []), ([], []))))
