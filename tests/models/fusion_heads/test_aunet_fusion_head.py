"""AUNet's category-relation fusion."""
import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.models.seg_heads.panoptic_fusion_heads import HeuristicFusionHead
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from panoptic_zoo.models.fusion_heads.aunet_fusion_head import (
    AUNetFusionHead, lay_masks_with_relations, relation_matrix)
from panoptic_zoo.registry import MODELS

THINGS = ('person', 'tie', 'cup', 'dining table')
PERSON, TIE, CUP, TABLE = range(4)
TEST_CFG = ConfigDict(mask_overlap=0.5, stuff_area_limit=4)


def box_mask(y0, y1, x0, x1, size=(20, 20)):
    mask = torch.zeros(size, dtype=torch.bool)
    mask[y0:y1, x0:x1] = True
    return mask


def person_and_tie(tie_score=0.8):
    """A person (rows 2-17) with a tie on its chest (rows 6-11)."""
    return InstanceData(
        bboxes=torch.tensor([[3., 2., 15., 18.], [8., 6., 10., 12.]]),
        labels=torch.tensor([PERSON, TIE]),
        scores=torch.tensor([0.9, tie_score]),
        masks=torch.stack([box_mask(2, 18, 3, 15),
                           box_mask(6, 12, 8, 10)]))


def build_head(relations=(('tie', 'person'), )):
    return MODELS.build(
        dict(
            type='AUNetFusionHead',
            num_things_classes=4,
            num_stuff_classes=2,
            thing_classes=THINGS,
            relations=relations,
            test_cfg=TEST_CFG))


def test_relation_keeps_tie_the_heuristic_drops():
    inst = person_and_tie()
    seg = torch.zeros(3, 20, 20)  # (num_stuff + 1, H, W): stuff 0 wins
    seg[0] = 1
    plain = HeuristicFusionHead(
        num_things_classes=4, num_stuff_classes=2, test_cfg=TEST_CFG)
    ours = build_head()
    pan_plain = plain.predict([inst], [seg])[0].sem_seg[0]
    pan_ours = ours.predict_by_masks([inst], [seg])[0].sem_seg[0]
    labels_plain = set((pan_plain % INSTANCE_OFFSET).unique().tolist())
    labels_ours = set((pan_ours % INSTANCE_OFFSET).unique().tolist())
    assert TIE not in labels_plain  # 100% inside the person: dropped
    assert TIE in labels_ours
    tie_pixels = pan_ours % INSTANCE_OFFSET == TIE
    assert torch.equal(tie_pixels, inst.masks[1])  # on top, whole
    person = pan_ours % INSTANCE_OFFSET == PERSON
    assert torch.equal(person, inst.masks[0] & ~inst.masks[1])
    assert len((pan_ours // INSTANCE_OFFSET).unique()) == 3  # 2 + stuff


def test_without_relations_equals_mmdet_heuristic():
    gen = torch.Generator().manual_seed(0)
    masks = torch.rand(12, 24, 24, generator=gen) > 0.6
    labels = torch.randint(4, (12, ), generator=gen)
    scores = torch.rand(12, generator=gen)
    inst = InstanceData(
        bboxes=torch.zeros(12, 4), labels=labels, scores=scores, masks=masks)
    plain = HeuristicFusionHead(
        num_things_classes=4, num_stuff_classes=2, test_cfg=TEST_CFG)
    ref_map, ref_labels = plain._lay_masks(inst, 0.5)
    id_map, kept = lay_masks_with_relations(masks, labels, scores,
                                            torch.zeros(4, 4, dtype=bool), 0.5)
    assert torch.equal(id_map, ref_map) and torch.equal(kept, ref_labels)


def test_relation_is_directed_and_needs_a_larger_container():
    inst = person_and_tie()
    table = relation_matrix([('tie', 'person')], THINGS)
    # The tie first (higher score): the person fills the rest, no drop.
    id_map, kept = lay_masks_with_relations(inst.masks, inst.labels,
                                            torch.tensor([0.5, 0.9]), table,
                                            0.5)
    assert kept.tolist() == [TIE, PERSON]
    assert torch.equal(id_map == 1, inst.masks[1])
    # A cup on a person: no relation, dropped as usual.
    cup = inst.labels.clone()
    cup[1] = CUP
    _, kept = lay_masks_with_relations(inst.masks, cup, inst.scores, table,
                                       0.5)
    assert kept.tolist() == [PERSON]
    # The reverse pair (a person on a tie) does not apply.
    _, kept = lay_masks_with_relations(
        inst.masks, inst.labels, inst.scores,
        relation_matrix([('person', 'tie')], THINGS), 0.5)
    assert kept.tolist() == [PERSON]
    # A "tie" larger than the person it overlaps is not lying on it.
    big = torch.stack([box_mask(2, 12, 0, 10), box_mask(2, 14, 0, 10)])
    _, kept = lay_masks_with_relations(big, inst.labels, inst.scores, table,
                                       0.5)
    assert kept.tolist() == [PERSON]


def test_empty_instances():
    head = build_head()
    inst = InstanceData(
        bboxes=torch.zeros(0, 4),
        labels=torch.zeros(0, dtype=torch.long),
        scores=torch.zeros(0),
        masks=torch.zeros(0, 20, 20, dtype=torch.bool))
    seg = torch.zeros(3, 20, 20)
    seg[1] = 1
    pan = head.predict_by_masks([inst], [seg])[0].sem_seg[0]
    assert pan.unique().tolist() == [4 + 1]  # stuff class 1, label 5


def test_bad_configs():
    with pytest.raises(ValueError, match="names 'necktie', which is not"):
        build_head(relations=[('necktie', 'person')])
    with pytest.raises(ValueError, match=r'\(small, large\) pair'):
        build_head(relations=['tie'])
    with pytest.raises(ValueError, match='cannot lie on itself'):
        build_head(relations=[('tie', 'tie')])
    with pytest.raises(ValueError, match='must list the num_things_classes'):
        AUNetFusionHead(
            num_things_classes=5,
            num_stuff_classes=2,
            thing_classes=THINGS,
            test_cfg=TEST_CFG)
    with pytest.raises(TypeError):
        MODELS.build(
            dict(
                type='AUNetFusionHead',
                num_things_classes=4,
                num_stuff_classes=2,
                thing_classes=THINGS,
                relation=[('tie', 'person')]))  # misspelt key


def test_relations_are_not_in_state_dict():
    assert build_head().state_dict() == {}
