"""The sync-free heuristic fusion equals mmdet's, bit for bit, and makes
no host sync."""
import pytest
import torch
from mmdet.models.seg_heads.panoptic_fusion_heads import HeuristicFusionHead
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from panoptic_zoo.models.fusion_heads.sync_free_heuristic_fusion_head import (
    SyncFreeHeuristicFusionHead, overlap_limits)
from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing import HostSyncCounter

T, S = 5, 4  # thing and stuff classes


def heads(mask_overlap=0.5, stuff_area_limit=30):
    test_cfg = ConfigDict(
        mask_overlap=mask_overlap, stuff_area_limit=stuff_area_limit)
    ref = HeuristicFusionHead(
        num_things_classes=T, num_stuff_classes=S, test_cfg=test_cfg)
    ours = MODELS.build(
        dict(
            type='SyncFreeHeuristicFusionHead',
            num_things_classes=T,
            num_stuff_classes=S,
            test_cfg=test_cfg))
    return ref, ours


def random_case(gen, num, height, width, device='cpu'):
    """N detections: boxes and blobs of many sizes, some empty, some
    duplicated or nested, scores from a few values (ties)."""
    masks = torch.zeros(num, height, width, dtype=torch.bool)
    for i in range(num):
        kind = int(torch.randint(0, 6, (1, ), generator=gen))
        if kind == 0:  # empty
            continue
        if kind == 1 and i > 0:  # a copy or a part of an earlier mask
            j = int(torch.randint(0, i, (1, ), generator=gen))
            keep = torch.rand(height, width, generator=gen) < 0.8
            masks[i] = masks[j] & (keep if i % 2 else torch.ones_like(keep))
            continue
        y0, x0 = (
            int(torch.randint(0, s, (1, ), generator=gen))
            for s in (height, width))
        y1 = int(torch.randint(y0 + 1, height + 1, (1, ), generator=gen))
        x1 = int(torch.randint(x0 + 1, width + 1, (1, ), generator=gen))
        masks[i, y0:y1, x0:x1] = True
        if kind == 2:  # a blob: holes in the box
            masks[i] &= torch.rand(height, width, generator=gen) < 0.6
    instances = InstanceData(
        bboxes=torch.zeros(num, 4),
        labels=torch.randint(0, T, (num, ), generator=gen),
        scores=torch.randint(1, 5, (num, ), generator=gen).float() / 4,
        masks=masks)
    seg_preds = torch.randn(S + 1, height, width, generator=gen)
    return instances.to(device), seg_preds.to(device)


def assert_same(ref, ours, instances_list, seg_list):
    expected = ref.predict(instances_list, [s.clone() for s in seg_list])
    got = ours.predict_by_masks(instances_list, [s.clone() for s in seg_list])
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        assert g.sem_seg.dtype == e.sem_seg.dtype == torch.int32
        assert torch.equal(g.sem_seg, e.sem_seg)


@pytest.mark.parametrize('mask_overlap', [0.5, 0.3, 0.0, 1.0, 1.5, -0.1])
@pytest.mark.parametrize('stuff_area_limit', [0, 30, 4096])
def test_equals_mmdet_on_random_cases(mask_overlap, stuff_area_limit):
    # 1.0 keeps fully covered masks with no pixel: mmdet skips their id.
    # -0.1 drops every mask; 4096 turns all stuff void.
    gen = torch.Generator().manual_seed(
        int(mask_overlap * 10) * 100 + stuff_area_limit)
    ref, ours = heads(mask_overlap, stuff_area_limit)
    for _ in range(25):
        batch = [
            random_case(gen, int(torch.randint(0, 15, (1, ), generator=gen)),
                        int(torch.randint(4, 48, (1, ), generator=gen)),
                        int(torch.randint(4, 48, (1, ), generator=gen)))
            for _ in range(int(torch.randint(1, 4, (1, ), generator=gen)))
        ]
        assert_same(ref, ours, *map(list, zip(*batch)))


def test_equals_mmdet_on_named_cases():
    ref, ours = heads(0.5, 30)
    gen = torch.Generator().manual_seed(0)
    inst, seg = random_case(gen, 0, 20, 30)  # zero detections
    assert_same(ref, ours, [inst], [seg])
    # One big mask first, the rest inside it: all but the first dropped;
    # equal scores, so the tie order decides which one is first.
    masks = torch.zeros(4, 20, 30, dtype=torch.bool)
    masks[:, 2:18, 3:27] = True
    masks[1:, 5:10, 5:10] = False
    inst = InstanceData(
        bboxes=torch.zeros(4, 4),
        labels=torch.tensor([0, 1, 2, 3]),
        scores=torch.full((4, ), 0.7),
        masks=masks)
    assert_same(ref, ours, [inst], [seg])
    # All empty: nothing laid. Stuff 1 covers 9 pixels (< 30): void.
    inst.masks = torch.zeros_like(masks)
    seg = torch.zeros(S + 1, 20, 30)
    seg[0] = 1
    seg[1, :3, :3] = 2
    assert_same(ref, ours, [inst], [seg])
    out = ours.predict_by_masks([inst], [seg])[0].sem_seg[0]
    assert (out[:3, :3] == T + S).all() and (out[3:] == T).all()


def test_equals_mmdet_at_full_size_with_100_detections():
    gen = torch.Generator().manual_seed(5)
    ref, ours = heads(0.5, 4096)
    inst, seg = random_case(gen, 100, 200, 304)
    assert_same(ref, ours, [inst], [seg])
    assert len(inst) == 100


def test_equals_mmdet_beyond_255_detections():
    # The owner weights switch from uint8 to int32 at 256 detections.
    gen = torch.Generator().manual_seed(6)
    ref, ours = heads(0.5, 30)
    for num in (255, 256, 300):
        inst, seg = random_case(gen, num, 40, 60)
        assert_same(ref, ours, [inst], [seg])


def test_overlap_limits_match_brute_force():
    areas = torch.arange(0, 3001)
    big = torch.tensor([2**22 - 3, 3_000_001, 973_000, 65_537])
    for thr in (0.5, 0.3, 1 / 3, 0.1, 0.9999999, 1.0, 1.5, 0.0, -0.1):
        limits = overlap_limits(areas, thr, 3000)
        for area in range(3001):
            k = torch.arange(area + 1)
            kept = ~(k / (torch.tensor(area) + 1e-5) > thr)  # mmdet's test
            expected = int(k[kept].max()) if area and kept.any() else -1
            assert int(limits[area]) == expected, (thr, area)
        # Large areas: a +-1000 window around thr * area holds the limit.
        limits = overlap_limits(big, thr, 2**22)
        for area, limit in zip(big.tolist(), limits.tolist()):
            centre = min(max(int(thr * area), 1000), area - 1000)
            k = torch.arange(centre - 1000, centre + 1001)
            kept = ~(k / (torch.tensor(area) + 1e-5) > thr)
            assert kept[0] or not kept.any()
            assert not kept[-1] or centre + 1000 == area or thr >= 1
            expected = int(k[kept].max()) if kept.any() else -1
            if thr >= 1:
                expected = area
            assert limit == expected, (thr, area)


def count_calls(head, num):
    inst, seg = random_case(torch.Generator().manual_seed(1), num, 40, 48)
    # ours: the contract's per-batch call; mmdet's head: its own predict
    predict = getattr(head, 'predict_by_masks', head.predict)
    with HostSyncCounter() as counter:
        predict([inst], [seg])
    return counter


def test_no_sync_on_cpu_and_mmdet_fails_the_same_check():
    ref, ours = heads(0.5, 30)
    counter = count_calls(ours, 20)
    assert counter.num_syncs == 0, counter.syncs
    # Five calls per detection in the loop (and, count, compare, mul, or)
    # and, on CPU only, one area count per row, plus a fixed number: no
    # per-instance indexing or host decisions.
    assert count_calls(ours, 40).num_calls - counter.num_calls <= 6 * 20
    assert counter.num_calls <= 6 * 20 + 100, counter.calls
    counter = count_calls(ref, 20)
    assert counter.syncs['__bool__'] >= 2 * 20  # the check can fail
    assert counter.syncs['unique'] == 1


@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason='set_sync_debug_mode checks CUDA syncs; no GPU here (the CPU '
    'counter test covers the same calls)')
def test_no_sync_on_cuda():
    gen = torch.Generator().manual_seed(2)
    ref, ours = heads(0.5, 30)
    batch = [random_case(gen, n, 64, 96, 'cuda') for n in (0, 1, 30)]
    insts, segs = map(list, zip(*batch))
    ours.predict_by_masks(insts, segs)  # warm up lazy CUDA initialisation
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        got = ours.predict_by_masks(insts, segs)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    expected = ref.predict(insts, [s.clone() for s in segs])
    for e, g in zip(expected, got):
        assert g.sem_seg.is_cuda
        assert torch.equal(g.sem_seg, e.sem_seg)


def test_bad_config_and_inputs_fail_loudly():
    with pytest.raises(KeyError, match='stuff_area_limit'):
        SyncFreeHeuristicFusionHead(
            num_things_classes=T,
            num_stuff_classes=S,
            test_cfg=dict(mask_overlap=0.5))
    _, ours = heads()
    inst, seg = random_case(torch.Generator().manual_seed(3), 3, 10, 12)
    inst.masks = inst.masks.float()
    with pytest.raises(TypeError, match='bool'):
        ours.predict_by_masks([inst], [seg])
    inst.masks = inst.masks.bool()
    with pytest.raises(ValueError, match=r'\(10, 12\).*\(10, 11\)'):
        ours.predict_by_masks([inst], [seg[:, :, :11]])
