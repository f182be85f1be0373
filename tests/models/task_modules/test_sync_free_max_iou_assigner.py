"""SyncFreeMaxIoUAssigner assigns exactly as mmdet's MaxIoUAssigner, with
no host sync."""
import itertools

import pytest
import torch
from mmdet.models.task_modules.assigners import MaxIoUAssigner

from panoptic_zoo.models.task_modules import SyncFreeMaxIoUAssigner
from panoptic_zoo.registry import TASK_UTILS
from panoptic_zoo.testing import HostSyncCounter

SETTINGS = [
    dict(pos_iou_thr=0.7, neg_iou_thr=0.3, min_pos_iou=0.3,
         match_low_quality=True),  # Mask R-CNN's RPN
    dict(pos_iou_thr=0.5, neg_iou_thr=0.5, min_pos_iou=0.5,
         match_low_quality=True),  # Mask R-CNN's R-CNN
    dict(pos_iou_thr=0.5, neg_iou_thr=(0.1, 0.4), min_pos_iou=0.0,
         match_low_quality=True, gt_max_assign_all=False),
    dict(pos_iou_thr=0.6, neg_iou_thr=0.4, min_pos_iou=0.2,
         match_low_quality=False),
]


def _overlaps(num_gts, num_priors, seed):
    """IoUs rounded to 0.05 so that ties (several best priors per GT, the
    same prior best for several GTs) happen often, most pairs disjoint (0)
    as in an image, some priors ignored (-1)."""
    gen = torch.Generator().manual_seed(seed)
    overlaps = (torch.rand(num_gts, num_priors, generator=gen) * 20).floor()
    touching = torch.rand(num_gts, num_priors, generator=gen) < 0.15
    overlaps = overlaps / 20 * touching
    ignored = torch.rand(num_priors, generator=gen) < 0.05
    overlaps[:, ignored] = -1
    return overlaps


@pytest.mark.parametrize('setting,seed', itertools.product(
    range(len(SETTINGS)), range(12)))
def test_same_assignment_as_mmdet(setting, seed):
    ref = MaxIoUAssigner(**SETTINGS[setting])
    ours = SyncFreeMaxIoUAssigner(**SETTINGS[setting])
    num_gts = [1, 3, 15, 40][seed % 4]
    overlaps = _overlaps(num_gts, 500, seed)
    labels = torch.randint(0, 80, (num_gts, ),
                           generator=torch.Generator().manual_seed(seed))
    want = ref.assign_wrt_overlaps(overlaps.clone(), labels)
    got = ours.assign_wrt_overlaps(overlaps.clone(), labels)
    assert torch.equal(got.gt_inds, want.gt_inds)
    assert torch.equal(got.max_overlaps, want.max_overlaps)
    assert torch.equal(got.labels, want.labels)
    assert got.num_gts == want.num_gts
    # The cases exercise every branch: positives, negatives, unassigned.
    if setting == 0 and num_gts in (3, 15):
        values = set(got.gt_inds.unique().tolist())
        assert {-1, 0} <= values and max(values) > 1


@pytest.mark.parametrize('num_gts,num_priors', [(0, 10), (4, 0), (0, 0)])
def test_empty_cases_match(num_gts, num_priors):
    overlaps = torch.zeros(num_gts, num_priors)
    labels = torch.zeros(num_gts, dtype=torch.long)
    want = MaxIoUAssigner(0.7, 0.3).assign_wrt_overlaps(overlaps, labels)
    got = SyncFreeMaxIoUAssigner(0.7, 0.3).assign_wrt_overlaps(
        overlaps, labels)
    assert torch.equal(got.gt_inds, want.gt_inds)
    assert torch.equal(got.labels, want.labels)


def test_no_host_sync_where_mmdet_has_many():
    overlaps = _overlaps(15, 2000, 0)
    labels = torch.arange(15)
    counts = []
    for cls in (MaxIoUAssigner, SyncFreeMaxIoUAssigner):
        assigner = cls(**SETTINGS[0])
        with HostSyncCounter() as counter:
            assigner.assign_wrt_overlaps(overlaps, labels)
        counts.append(sum(counter.syncs.values()))
    mmdet_syncs, our_syncs = counts
    assert mmdet_syncs >= 2 * 15  # one if + one mask write per GT
    assert our_syncs == 0


def test_builds_from_config():
    assigner = TASK_UTILS.build(
        dict(type='SyncFreeMaxIoUAssigner', pos_iou_thr=0.7,
             neg_iou_thr=0.3, min_pos_iou=0.3, match_low_quality=True))
    assert isinstance(assigner, SyncFreeMaxIoUAssigner)
