"""PQ core: hand-computed cases and panopticapi parity in memory."""
import contextlib
import io
import json
import os.path as osp

import numpy as np
import pytest
import torch

from panoptic_zoo.evaluation.pq_files import segment_table
from panoptic_zoo.ops import pq as pq_ops

# Category 1 is a thing, 2 is stuff, 3 a thing that never appears.
CATS = [
    dict(id=1, name='thing', isthing=1),
    dict(id=2, name='stuff', isthing=0),
    dict(id=3, name='absent', isthing=1)
]


def _evaluate(gt_rows,
              gt_segments,
              pred_rows,
              pred_segments,
              categories=CATS,
              device='cpu',
              num_chunks=1):
    """PQ of images given as lists of pixel rows (one row per image)."""
    gt = [torch.tensor(r, device=device).view(1, -1) for r in gt_rows]
    pred = [torch.tensor(r, device=device).view(1, -1) for r in pred_rows]
    label_of = {c['id']: i for i, c in enumerate(categories)}
    gt_t = segment_table(gt_segments, label_of).to(device)
    pred_t = segment_table(pred_segments, label_of).to(device)
    matches = pq_ops.match_segments(
        pq_ops.confusion(gt, pred, gt_t, pred_t), gt_t, pred_t)
    stat = pq_ops.accumulate(matches.cpu(), len(categories), num_chunks)
    return pq_ops.pq_results(stat, categories), matches


def test_void_is_left_out_of_the_union():
    # GT:   A A A A V V B B B B    A: thing (4 px), V: VOID, B: stuff (4 px)
    # pred: X X X X X X . Y Y Y    X: thing (6 px), '.' void, Y: stuff (3)
    # IoU(A, X) = 4 / (6 + 4 - 4 - 2 on VOID) = 1.0 -> TP
    # IoU(B, Y) = 3 / (3 + 4 - 3 - 0) = 0.75 -> TP
    # PQ: thing 1.0, stuff 0.75; All = (1 + 0.75) / 2 = 0.875.
    res, _ = _evaluate(
        [[5, 5, 5, 5, 0, 0, 7, 7, 7, 7]], [[
            dict(id=5, category_id=1, iscrowd=0, area=4),
            dict(id=7, category_id=2, iscrowd=0, area=4)
        ]], [[11, 11, 11, 11, 11, 11, 0, 12, 12, 12]],
        [[dict(id=11, category_id=1),
          dict(id=12, category_id=2)]])
    assert res['per_class'][1] == {'pq': 1.0, 'sq': 1.0, 'rq': 1.0}
    assert res['per_class'][2] == {'pq': 0.75, 'sq': 0.75, 'rq': 1.0}
    assert res['per_class'][3] == {'pq': 0.0, 'sq': 0.0, 'rq': 0.0}
    assert res['All'] == {'pq': 0.875, 'sq': 0.875, 'rq': 1.0, 'n': 2}
    assert res['Things'] == {'pq': 1.0, 'sq': 1.0, 'rq': 1.0, 'n': 1}
    assert res['Stuff'] == {'pq': 0.75, 'sq': 0.75, 'rq': 1.0, 'n': 1}


def test_crowd_excuses_predictions_of_its_category_only():
    # GT:   C C C C C T T T T T    C: crowd of cat 1, T: thing of cat 1
    # pred: P P P Q R R R R R R    P, R: cat 1; Q: cat 2
    # IoU(T, R) = 5 / (6 + 5 - 5) = 5/6 -> TP. C is crowd: no FN.
    # P: 3 of 3 px on the crowd of its category -> not a FP.
    # Q: on the crowd, but of category 2 -> FP of category 2.
    # cat 1: PQ = SQ = 5/6, RQ = 1; cat 2: PQ = RQ = 0, SQ = int 0.
    # All = (5/6 + 0) / 2 = 5/12.
    res, matches = _evaluate([[3] * 5 + [4] * 5], [[
        dict(id=3, category_id=1, iscrowd=1, area=5),
        dict(id=4, category_id=1, iscrowd=0, area=5)
    ]], [[21, 21, 21, 22, 23, 23, 23, 23, 23, 23]], [[
        dict(id=21, category_id=1),
        dict(id=22, category_id=2),
        dict(id=23, category_id=1)
    ]])
    assert res['per_class'][1] == {'pq': 5 / 6, 'sq': 5 / 6, 'rq': 1.0}
    assert res['per_class'][2] == {'pq': 0.0, 'sq': 0, 'rq': 0.0}
    assert res['All']['pq'] == (5 / 6 + 0.0) / 2
    assert res['All']['n'] == 2
    assert matches.fp_labels.tolist() == [1]  # category index of cat 2
    assert len(matches.fn_labels) == 0


def test_iou_of_exactly_half_is_no_match():
    # GT: A A A A (thing, 4 px). pred 2 px on A: IoU = 2 / 4 = 0.5, not
    # > 0.5 -> FN + FP: PQ = RQ = 0. With 3 px: IoU = 3 / 4 -> TP.
    gt_segs = [[dict(id=1, category_id=1, iscrowd=0, area=4)]]
    res, _ = _evaluate([[1, 1, 1, 1]], gt_segs, [[9, 9, 0, 0]],
                       [[dict(id=9, category_id=1)]])
    assert res['per_class'][1] == {'pq': 0.0, 'sq': 0, 'rq': 0.0}
    res, _ = _evaluate([[1, 1, 1, 1]], gt_segs, [[9, 9, 9, 0]],
                       [[dict(id=9, category_id=1)]])
    assert res['per_class'][1] == {'pq': 0.75, 'sq': 0.75, 'rq': 1.0}


def test_void_overlap_excuses_a_false_positive():
    # GT:   A A V V V B B    A: thing (cat 1), V: VOID, B: stuff (cat 2)
    # pred: X X Y Y Z Z .    X, Y: cat 1; Z: cat 2; '.' void
    # IoU(A, X) = 2 / (2 + 2 - 2 - 0) = 1 -> TP.
    # Y lies 2 of 2 px on VOID (> 0.5) -> not a FP.
    # IoU(B, Z) = 1 / (2 + 2 - 1 - 1 on VOID) = 0.5 -> no match: B is a
    # FN, and Z (1 of 2 px on VOID, not > 0.5) a FP of cat 2.
    res, matches = _evaluate([[1, 1, 0, 0, 0, 2, 2]], [[
        dict(id=1, category_id=1, iscrowd=0, area=2),
        dict(id=2, category_id=2, iscrowd=0, area=2)
    ]], [[7, 7, 8, 8, 9, 9, 0]], [[
        dict(id=7, category_id=1),
        dict(id=8, category_id=1),
        dict(id=9, category_id=2)
    ]])
    assert matches.fp_labels.tolist() == [1]  # index of cat 2
    assert matches.fn_labels.tolist() == [1]
    assert res['per_class'][1] == {'pq': 1.0, 'sq': 1.0, 'rq': 1.0}
    assert res['per_class'][2] == {'pq': 0.0, 'sq': 0, 'rq': 0.0}


def test_unknown_gt_ids_and_json_areas_follow_panopticapi():
    # GT: A A U U, where U (id 6) is in the PNG but not in the JSON: an
    # unlabelled region, not VOID, so it stays in the union.
    # pred: X X X X (cat 1). IoU(A, X) = 2 / (4 + 2 - 2 - 0) = 0.5 -> no.
    pred = [[9, 9, 9, 9]]
    _, m = _evaluate([[1, 1, 6, 6]], [[dict(id=1, category_id=1, iscrowd=0)]],
                     pred, [[dict(id=9, category_id=1)]])
    assert len(m.tp_labels) == 0 and m.fp_labels.tolist() == [0]
    # GT: A A A U with a wrong JSON area of 2 for A: panopticapi uses the
    # JSON's, so IoU(A, X) = 3 / (4 + 2 - 3 - 0) = 1.0.
    _, m = _evaluate([[1, 1, 1, 6]],
                     [[dict(id=1, category_id=1, iscrowd=0, area=2)]], pred,
                     [[dict(id=9, category_id=1)]])
    assert m.tp_ious.tolist() == [1.0]


def test_compact_ids_search_equals_table_lookup():
    big = 1 << 24  # past the default lookup table: it has to grow
    ids = torch.tensor([[0, 7, 300, big | 5]])
    id_map = torch.tensor([[0, 7, 8, 300, big | 5, big | 9]])
    # Listed id 0 is a segment; 8 and big | 9 are listed nowhere (OTHER).
    expected = [2, 3, pq_ops.OTHER, 4, 5, pq_ops.OTHER]
    assert pq_ops.compact_ids(id_map, ids)[0].tolist() == expected
    assert pq_ops._compact_lut(id_map[0], ids[0]).tolist() == expected
    # Id 0, unlisted, is VOID.
    assert pq_ops._compact_lut(torch.tensor([0, 7]),
                               torch.tensor([7])).tolist() == [0, 2]
    with pytest.raises(ValueError, match='must be >= 0, got -3'):
        pq_ops._compact_lut(torch.tensor([1, -3]), torch.tensor([1]))


def test_states_merge_like_panopticapi_workers():
    rng = np.random.default_rng(0)
    m = pq_ops.empty_matches(20)._replace(
        tp_image=torch.arange(200) // 10,
        tp_labels=torch.from_numpy(rng.integers(0, 3, 200)),
        tp_ious=torch.from_numpy(rng.uniform(0.5, 1, 200)))
    whole = pq_ops.accumulate(m, 3, num_chunks=2)
    halves = (
        pq_ops.PQStat(3).add(m.images(0, 10)) +
        pq_ops.PQStat(3).add(m.images(10, 20)))
    for name in ('tp', 'fp', 'fn', 'iou'):
        assert torch.equal(getattr(halves, name), getattr(whole, name))
    # One chunk is the plain left-to-right sum of panopticapi's loop.
    sums = [0.0] * 3
    for label, iou in zip(m.tp_labels.tolist(), m.tp_ious.tolist()):
        sums[label] += iou
    assert pq_ops.accumulate(m, 3).iou.tolist() == sums
    assert torch.equal(whole.tp, torch.bincount(m.tp_labels))
    cat = pq_ops.PQMatches.cat([m.images(0, 7), m.images(7, 20)])
    assert all(torch.equal(a, b) for a, b in zip(cat[:7], m[:7]))
    assert cat.num_images == 20


def _perturbed(root, split, seed):
    """GT of the built-in dataset and perturbed predictions, as tensors."""
    from panoptic_zoo.benchmark.pq import perturb_prediction
    from panoptic_zoo.evaluation.pq_files import read_id_map
    ann_dir = osp.join(root, 'annotations')
    with open(osp.join(ann_dir, f'panoptic_{split}2017.json')) as f:
        gt_json = json.load(f)
    rng = np.random.default_rng(seed)
    out = []
    for ann in gt_json['annotations']:
        gt_map = read_id_map(
            osp.join(ann_dir, f'panoptic_{split}2017', ann['file_name']))
        pred, segs = perturb_prediction(rng, gt_map.numpy(),
                                        ann['segments_info'],
                                        gt_json['categories'])
        out.append(
            (gt_map, ann['segments_info'], torch.from_numpy(pred), segs))
    return gt_json['categories'], out


@pytest.mark.parametrize('device', [
    'cpu',
    pytest.param(
        'cuda',
        marks=pytest.mark.skipif(
            not torch.cuda.is_available(), reason='needs CUDA'))
])
def test_batched_equals_per_image_on_the_builtin_dataset(
        synthetic_root, device):
    cats, data = _perturbed(synthetic_root, 'train', seed=1)
    gts, gt_segs, preds, pred_segs = zip(*data)
    gts = [g.to(device) for g in gts]
    preds = [p.to(device) for p in preds]
    label_of = {c['id']: i for i, c in enumerate(cats)}
    gt_t = segment_table(gt_segs, label_of).to(device)
    pred_t = segment_table(pred_segs, label_of).to(device)
    batched = pq_ops.match_segments(
        pq_ops.confusion(gts, preds, gt_t, pred_t), gt_t, pred_t).cpu()
    # The binary-search path (the GPU's) on the CPU, one image at a time.
    singles = []
    for b in range(len(gts)):
        g_t = pq_ops.SegmentTable(*(t[b:b + 1] for t in gt_t))
        p_t = pq_ops.SegmentTable(*(t[b:b + 1] for t in pred_t))
        g = pq_ops.compact_ids(gts[b].flatten()[None].long(), g_t.ids)
        p = pq_ops.compact_ids(preds[b].flatten()[None].long(), p_t.ids)
        size_p = p_t.ids.shape[1] + 2
        counts = torch.bincount(
            (g * size_p + p).flatten(),
            minlength=(g_t.ids.shape[1] + 2) * size_p).view(1, -1, size_p)
        singles.append(pq_ops.match_segments(counts, g_t, p_t).cpu())
    single = pq_ops.PQMatches.cat(singles)
    for name, a, b in zip(pq_ops.PQMatches._fields, batched, single):
        assert torch.equal(a, b) if name != 'num_images' else a == b, name
    assert len(batched.tp_ious) and len(batched.fp_labels) and len(
        batched.fn_labels)


def test_in_memory_equals_panopticapi(synthetic_root, tmp_path):
    from panopticapi.evaluation import pq_compute

    from panoptic_zoo.benchmark.pq import write_panoptic
    cats, data = _perturbed(synthetic_root, 'train', seed=2)
    gts, gt_segs, preds, pred_segs = zip(*data)
    # The split has crowd regions and VOID, so every rule is exercised.
    assert any(s['iscrowd'] for segs in gt_segs for s in segs)
    assert any(bool((g == 0).any()) for g in gts)
    ids = list(range(len(gts)))
    write_panoptic(
        str(tmp_path / 'gt.json'), str(tmp_path / 'gt'), ids,
        [g.numpy() for g in gts], gt_segs, cats)
    write_panoptic(
        str(tmp_path / 'pred.json'), str(tmp_path / 'pred'), ids,
        [p.numpy() for p in preds], pred_segs, cats)
    with contextlib.redirect_stdout(io.StringIO()):
        ref = pq_compute(
            str(tmp_path / 'gt.json'), str(tmp_path / 'pred.json'),
            str(tmp_path / 'gt'), str(tmp_path / 'pred'))
    import multiprocessing
    label_of = {c['id']: i for i, c in enumerate(cats)}
    gt_t = segment_table(gt_segs, label_of)
    pred_t = segment_table(pred_segs, label_of)
    matches = pq_ops.match_segments(
        pq_ops.confusion(gts, preds, gt_t, pred_t), gt_t, pred_t)
    ours = pq_ops.pq_results(
        pq_ops.accumulate(matches, len(cats), multiprocessing.cpu_count()),
        cats)
    assert ours == ref  # bit for bit
    for other in (1, 3):  # another split changes at most the last bits
        res = pq_ops.pq_results(
            pq_ops.accumulate(matches, len(cats), other), cats)
        for key in ('All', 'Things', 'Stuff'):
            for m in ('pq', 'sq', 'rq'):
                assert res[key][m] == pytest.approx(ref[key][m], abs=1e-12)
