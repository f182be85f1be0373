"""SemanticCheckFusionHead: agreement, dropping, equality with heuristic."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from panoptic_zoo.models.fusion_heads import HeuristicFusionHead
from panoptic_zoo.registry import MODELS
from panoptic_zoo_example import SemanticCheckFusionHead, thing_agreement

TEST_CFG = ConfigDict(mask_overlap=0.5, stuff_area_limit=0)


def _instances(masks, scores, labels):
    inst = InstanceData()
    inst.masks = torch.stack(masks) if masks else torch.zeros(
        0, 8, 8, dtype=torch.bool)
    inst.scores = torch.tensor(scores, dtype=torch.float32)
    inst.labels = torch.tensor(labels, dtype=torch.long)
    inst.bboxes = torch.zeros(len(scores), 4)
    return inst


def _scene():
    """Left half: semantic head says thing; right half: stuff 0."""
    seg = torch.zeros(3, 8, 8)  # 2 stuff channels + thing
    seg[2, :, :4] = 10
    seg[0, :, 4:] = 10
    left = torch.zeros(8, 8, dtype=torch.bool)
    left[2:6, 0:4] = True
    right = torch.zeros(8, 8, dtype=torch.bool)
    right[2:6, 4:8] = True
    return seg, left, right


def _head(**kwargs):
    return MODELS.build(
        dict(
            type='SemanticCheckFusionHead',
            num_things_classes=2,
            num_stuff_classes=2,
            test_cfg=TEST_CFG,
            **kwargs))


def test_agreement_is_mean_thing_probability():
    seg, left, right = _scene()
    agreement = thing_agreement(torch.stack([left, right]), seg)
    assert agreement[0] > 0.99 and agreement[1] < 0.01
    empty = thing_agreement(torch.zeros(1, 8, 8, dtype=torch.bool), seg)
    assert empty.item() == 0


def test_instance_on_stuff_is_dropped():
    seg, left, right = _scene()
    head = _head()
    assert isinstance(head, SemanticCheckFusionHead)
    pan = head.predict_by_masks(
        [_instances([left, right], [0.5, 0.9], [0, 1])], [seg])[0].sem_seg[0]
    labels = set((pan % 1000).unique().tolist())
    assert 0 in labels and 1 not in labels  # the right one was stuff


def test_no_check_equals_heuristic():
    seg, left, right = _scene()
    inst = _instances([left, right], [0.5, 0.9], [0, 1])
    ours = _head(min_agreement=0., alpha=0.).predict_by_masks(
        [inst.clone()], [seg])
    ref = HeuristicFusionHead(
        num_things_classes=2, num_stuff_classes=2,
        test_cfg=TEST_CFG).predict_by_masks([inst.clone()], [seg.clone()])
    assert torch.equal(ours[0].sem_seg, ref[0].sem_seg)


def test_no_instances():
    seg, _, _ = _scene()
    pan = _head().predict_by_masks([_instances([], [], [])], [seg])[0].sem_seg
    assert pan.shape == (1, 8, 8)


def test_bad_config_and_layout():
    with pytest.raises(ValueError, match='min_agreement'):
        _head(min_agreement=2.)
    seg, left, _ = _scene()
    with pytest.raises(ValueError, match='num_stuff_classes \\+ 1 = 3'):
        _head().predict_by_masks([_instances([left], [0.5], [0])], [seg[:2]])
