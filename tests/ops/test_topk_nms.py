"""multiclass_nms_topk: bit-for-bit mmdet's multiclass_nms, with one mmcv
``nms`` call instead of one per class.

Scores are continuous random floats (softmax of Gaussian logits, times
random factors): no exact ties, so the order of the detections is defined
and torch.equal is the right comparison.

mmdet's own loop costs ~0.5-1 s per call on a small CPU, so a reference is
computed once per input with max_num=-1 and sliced: ``multiclass_nms``
truncates with ``dets[:max_num]`` / ``keep[:max_num]``, nothing else.
"""
import functools

import pytest
import torch
from mmdet.models.layers import multiclass_nms

import panoptic_zoo.ops.topk_nms as topk_nms
from panoptic_zoo.ops.topk_nms import multiclass_nms_topk
from panoptic_zoo.testing.nms_calls import counting_nms_calls

NUM_ROIS, NUM_CLASSES = 1000, 80
IMG_W, IMG_H = 1333, 800
SPLIT_THR = 10000  # mmcv's default
NMS = dict(type='nms', iou_threshold=0.5)


def clip(boxes):
    boxes = boxes.clone()
    boxes[..., 0::2] = boxes[..., 0::2].clamp(0, IMG_W)
    boxes[..., 1::2] = boxes[..., 1::2].clamp(0, IMG_H)
    return boxes


def clustered_boxes(num, gen, num_clusters=60, jitter=12.0):
    """(num, 4) boxes in the image, grouped around a few objects so that
    many overlap (IoU > 0.5) and NMS removes most of them."""
    centre = torch.rand(
        num_clusters, 2, generator=gen) * torch.tensor([IMG_W, IMG_H])
    size = 30 + torch.rand(num_clusters, 2, generator=gen) * 250
    pick = torch.randint(num_clusters, (num, ), generator=gen)
    ctr = centre[pick] + torch.randn(num, 2, generator=gen) * jitter
    wh = size[pick] * (1 + 0.15 * torch.randn(num, 2, generator=gen)).abs()
    return clip(torch.cat([ctr - wh / 2, ctr + wh / 2], dim=1))


@functools.lru_cache(maxsize=None)
def make_inputs(seed, per_class=True, num=NUM_ROIS):
    """Box-head-like inputs: (num, 80*4) or (num, 4) boxes, (num, 81)
    softmax scores (last column background), (num,) score factors.

    Each RoI has 14 plausible classes (~0.07 each: > 10000 candidates above
    0.05) and 10 % of them one confident class (~0.7, mostly > 0.5)."""
    gen = torch.Generator().manual_seed(seed)
    boxes = clustered_boxes(num, gen)
    if per_class:  # class-specific regression: small per-class moves
        boxes = boxes[:, None] + 4 * torch.randn(
            num, NUM_CLASSES, 4, generator=gen)
        boxes = clip(boxes).reshape(num, -1)
    logits = 0.3 * torch.randn(num, NUM_CLASSES + 1, generator=gen)
    hot = torch.rand(num, NUM_CLASSES, generator=gen).argsort(1)[:, :14]
    logits[torch.arange(num)[:, None], hot] += 5.5
    confident = torch.rand(num, generator=gen) < 0.1
    logits[confident, hot[confident, 0]] += 3.5
    factors = torch.rand(num, generator=gen)
    scores = logits.softmax(-1)
    scores[:, :-1] = untie(scores[:, :-1], factors, gen)
    return boxes, scores, factors


def untie(scores, factors, gen):
    """Softmax values repeat (80000 float32 values: ~100 ties); move the
    tied ones by an ulp until no two scores are equal, neither as they are
    nor times the factors (mmdet's ``scores * score_factors``). With ties
    the order of equal scores is up to torch's and mmcv's unstable sorts."""
    scores = scores.clone()
    for _ in range(50):
        tied = torch.zeros_like(scores, dtype=torch.bool)
        for values in (scores, scores * factors[:, None]):
            _, inverse, counts = values.reshape(-1).unique(
                return_inverse=True, return_counts=True)
            tied |= (counts[inverse] > 1).view_as(scores)
        if not tied.any():
            return scores
        up = torch.rand(scores.shape, generator=gen) < 0.5
        target = torch.where(up, torch.inf, -torch.inf).to(scores)
        scores[tied] = torch.nextafter(scores[tied], target[tied])
    raise AssertionError('could not untie the scores')


def count_nms(fn, *args, **kwargs):
    """fn's result and how often it called mmcv's ``nms``."""
    with counting_nms_calls() as calls:
        out = fn(*args, **kwargs)
    return out, len(calls)


@functools.lru_cache(maxsize=None)
def mmdet_full(seed, per_class, score_thr, cfg_items, factors=False):
    """mmdet's (dets, labels, inds) with max_num=-1, and its nms calls."""
    boxes, scores, score_factors = make_inputs(seed, per_class)
    return count_nms(
        multiclass_nms,
        boxes,
        scores,
        score_thr,
        dict(cfg_items),
        -1,
        score_factors=score_factors if factors else None,
        return_inds=True)


def mmdet_ref(max_num, *key, **kw):
    ref, _ = mmdet_full(*key, **kw)
    return tuple(t[:max_num] for t in ref) if max_num > 0 else ref


def assert_same(ours, ref):
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert torch.equal(a, b)


def num_candidates(scores, score_thr):
    return int((scores[:, :-1] > score_thr).sum())


@pytest.mark.parametrize('per_class', [True, False])
@pytest.mark.parametrize('score_thr', [0.0, 0.05, 0.5])
@pytest.mark.parametrize('max_num', [100, 1000])
def test_equals_mmdet(per_class, score_thr, max_num):
    seed = 1 + per_class
    boxes, scores, _ = make_inputs(seed, per_class)
    ours, calls = count_nms(
        multiclass_nms_topk,
        boxes,
        scores,
        score_thr,
        NMS,
        max_num,
        return_inds=True)
    key = (seed, per_class, score_thr, tuple(NMS.items()))
    assert_same(ours, mmdet_ref(max_num, *key))
    _, ref_calls = mmdet_full(*key)
    n = num_candidates(scores, score_thr)
    if score_thr < 0.5:  # mmcv's per-class loop vs one top-k round
        assert n >= SPLIT_THR
        assert ref_calls == NUM_CLASSES and calls == 1
        assert len(ours[0]) == max_num
    else:  # < split_thr: mmcv's single offset call, made as mmdet makes it
        assert 0 < n < SPLIT_THR and ref_calls == calls == 1
    # Without return_inds: (dets, labels).
    assert_same(
        multiclass_nms_topk(boxes, scores, score_thr, NMS, max_num),
        mmdet_ref(max_num, *key)[:2])


@pytest.mark.parametrize('score_thr', [0.0, 0.5])
def test_small_split_thr_and_max_num_in_cfg(score_thr):
    """score_thr 0.5 (softmax: at most one candidate per RoI) through the
    top-k path too, by lowering split_thr; mmcv's split branch also
    truncates to nms_cfg's max_num."""
    boxes, scores, _ = make_inputs(3)
    cfg = dict(type='nms', iou_threshold=0.5, split_thr=50, max_num=150)
    assert num_candidates(scores, score_thr) >= 50
    key = (3, True, score_thr, tuple(cfg.items()))
    assert mmdet_full(*key)[1] > 20
    for max_num in (100, 300, -1):
        ours, calls = count_nms(
            multiclass_nms_topk,
            boxes,
            scores,
            score_thr,
            cfg,
            max_num,
            return_inds=True)
        assert calls == 1
        ref = mmdet_ref(max_num, *key)
        limit = min(m for m in (max_num, 150) if m > 0)
        assert len(ref[0]) == min(limit, len(mmdet_ref(-1, *key)[0]))
        assert_same(ours, ref)


@pytest.mark.parametrize('score_thr', [0.0, 0.05])
def test_score_factors(score_thr):
    """Threshold on the raw scores, NMS and ranking on the products."""
    boxes, scores, factors = make_inputs(4)
    ours, calls = count_nms(
        multiclass_nms_topk,
        boxes,
        scores,
        score_thr,
        NMS,
        100,
        score_factors=factors,
        return_inds=True)
    assert calls == 1
    key = (4, True, score_thr, tuple(NMS.items()))
    assert_same(ours, mmdet_ref(100, *key, factors=True))
    assert not torch.equal(ours[0], mmdet_ref(100, *key)[0])


@pytest.mark.parametrize('per_class', [True, False])
def test_class_agnostic(per_class):
    """class_agnostic=True (Panoptic FPN): below split_thr mmcv makes one
    class-agnostic call; above it mmcv's loop still runs per class, on the
    boxes as they are, and ours makes no nms call (suppression matrix)."""
    boxes, scores, _ = make_inputs(6, per_class, num=300)
    cfg = dict(type='nms', iou_threshold=0.5, class_agnostic=True)
    for score_thr in (0.0, 0.5):
        ref, calls = count_nms(
            multiclass_nms,
            boxes,
            scores,
            score_thr,
            cfg,
            100,
            return_inds=True)
        ours, our_calls = count_nms(
            multiclass_nms_topk,
            boxes,
            scores,
            score_thr,
            cfg,
            100,
            return_inds=True)
        assert_same(ours, ref)
        if score_thr == 0.0:  # the surprise: per class, not agnostic
            assert len(ref[0]) == 100
            assert (calls, our_calls) == (NUM_CLASSES, 0)
        else:
            assert calls == our_calls == 1


def test_class_agnostic_retry_equals_mmdet():
    """The matrix path's k doubles too: the best 8000 candidates lie on
    one box (80 survivors < 100)."""
    boxes, scores = retry_inputs(high_rows=100)
    cfg = dict(type='nms', iou_threshold=0.5, class_agnostic=True)
    ours, calls = count_nms(
        multiclass_nms_topk, boxes, scores, 0.0, cfg, 100, return_inds=True)
    ref = multiclass_nms(boxes, scores, 0.0, cfg, 100, return_inds=True)
    assert calls == 0
    assert_same(ours, ref)


def test_greedy_keep_follows_chains():
    """A suppresses B, B would suppress C, A does not touch C: greedy
    keeps A and C (B is gone before it can suppress). One-shot 'any
    higher box suppresses me' would drop C too."""
    s = torch.zeros(4, 4, dtype=torch.bool)
    s[0, 1] = s[1, 2] = s[2, 3] = True  # chain A-B-C-D
    assert topk_nms._greedy_keep(s).tolist() == [True, False, True, False]


def test_suppression_matrix_by_hand():
    boxes = torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 6.],
                          [0., 0., 10., 4.], [0., 0., 10., 6.]])
    labels = torch.tensor([0, 0, 0, 1])
    s = topk_nms._suppresses(boxes, labels, 0.5)
    # IoU(0, 1) = 0.6 > 0.5; IoU(0, 2) = 0.4; IoU(1, 2) = 4 / 6; box 3 is
    # another class; nothing suppresses an earlier box.
    expected = torch.zeros(4, 4, dtype=torch.bool)
    expected[0, 1] = expected[1, 2] = True
    assert torch.equal(s, expected)


def retry_inputs(high_rows):
    """300 RoIs: rows < high_rows sit on one box and hold the best scores,
    the others are spread out (clustered_boxes)."""
    gen = torch.Generator().manual_seed(8)
    num = 300
    boxes = clustered_boxes(num, gen)[:, None].repeat(1, NUM_CLASSES, 1)
    same = torch.tensor([100., 100., 300., 260.])
    boxes[:high_rows] = same + 0.5 * torch.randn(
        high_rows, NUM_CLASSES, 4, generator=gen)
    scores = torch.rand(num, NUM_CLASSES + 1, generator=gen)
    scores[:high_rows, :-1] += 1  # above every score of the other rows
    scores[:, :-1] = untie(scores[:, :-1], torch.ones(num), gen)
    return boxes.reshape(num, -1), scores


def test_retry_path():
    """The top 8000 candidates (100 RoIs x 80 classes) lie on one box: one
    survivor per class, 80 < 100. k doubles 1000, 2000, 4000, 8000, 16000;
    the last round reaches the spread-out RoIs and stops there."""
    boxes, scores = retry_inputs(high_rows=100)
    ours, rounds = count_nms(
        multiclass_nms_topk, boxes, scores, 0.0, NMS, 100, return_inds=True)
    ref, _ = count_nms(
        multiclass_nms, boxes, scores, 0.0, NMS, 100, return_inds=True)
    assert_same(ours, ref)
    assert len(ref[0]) == 100
    assert rounds == 5  # retried, and stopped before k = all 24000


def test_retry_to_all_candidates():
    """Fewer survivors than max_num in all: k grows to every candidate."""
    boxes, scores = retry_inputs(high_rows=300)
    ours, rounds = count_nms(
        multiclass_nms_topk, boxes, scores, 0.0, NMS, 100, return_inds=True)
    assert rounds == 6  # 1000, 2000, 4000, 8000, 16000, 24000 (all)
    ref = multiclass_nms(boxes, scores, 0.0, NMS, 100, return_inds=True)
    assert_same(ours, ref)
    assert len(ref[0]) == NUM_CLASSES  # one per class


@pytest.mark.parametrize('per_class', [True, False])
def test_empty(per_class):
    boxes, scores, _ = make_inputs(9, per_class)
    cases = [(boxes, scores, 1.0)]  # every score below the threshold
    if per_class:  # no RoIs: mmdet cannot view (0, 0) as (0, -1, 4)
        for fn in (multiclass_nms, multiclass_nms_topk):
            with pytest.raises(RuntimeError, match='ambiguous'):
                fn(boxes[:0], scores[:0], 0.0, NMS, 100)
    else:
        cases.append((boxes[:0], scores[:0], 0.0))  # no RoIs
    for b, s, thr in cases:
        ours = multiclass_nms_topk(b, s, thr, NMS, 100, return_inds=True)
        ref = multiclass_nms(b, s, thr, NMS, 100, return_inds=True)
        assert_same(ours, ref)
        assert ours[0].shape == (0, 5) and ours[1].shape == (0, )
        assert_same(multiclass_nms_topk(b, s, thr, NMS, 100), ref[:2])


def test_keep_all_delegates(monkeypatch):
    """max_num <= 0 (and none in nms_cfg): mmdet's function, as it is."""
    boxes, scores, _ = make_inputs(10)
    seen = []

    def spy(*args, **kwargs):
        seen.append(1)
        return multiclass_nms(*args, **kwargs)

    monkeypatch.setattr(topk_nms, '_mmdet_multiclass_nms', spy)
    for max_num in (0, -1):
        ours = multiclass_nms_topk(
            boxes, scores, 0.05, NMS, max_num, return_inds=True)
        ref = multiclass_nms(
            boxes, scores, 0.05, NMS, max_num, return_inds=True)
        assert_same(ours, ref)
    assert len(seen) == 2
    assert len(ref[0]) > 1000


def test_unsafe_offsets_fall_back():
    """Negative coordinates: class-offset boxes of neighbouring classes
    could overlap, so mmcv's per-class loop runs; same result."""
    boxes, scores, _ = make_inputs(11, num=200)
    boxes = boxes - 50
    ours, calls = count_nms(
        multiclass_nms_topk, boxes, scores, 0.0, NMS, 100, return_inds=True)
    assert calls == NUM_CLASSES
    ref = multiclass_nms(boxes, scores, 0.0, NMS, 100, return_inds=True)
    assert_same(ours, ref)
