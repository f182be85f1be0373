"""Synthetic panoptic predictions (:func:`perturb_prediction` damages a GT
map as models do) and the PQ speed benchmark (:func:`run_benchmark`)."""
import contextlib
import io
import json
import math
import multiprocessing
import os
import os.path as osp
import tempfile
import time
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
from PIL import Image

from panoptic_zoo.evaluation.pq_files import (evaluate_images, pq_compute,
                                              segment_table)
from panoptic_zoo.ops import pq as pq_ops
from panoptic_zoo.panoptic_png import id2rgb

ACTIONS = ('keep', 'shift', 'merge', 'split', 'wrong_class', 'missing')
ACTION_P = (0.45, 0.2, 0.08, 0.08, 0.09, 0.1)


def benchmark_categories(num_things: int = 80,
                         num_stuff: int = 53) -> List[dict]:
    """COCO-like categories: ids 1.., things first (COCO has 80 + 53)."""
    return [
        dict(id=i + 1, name=f'class{i}', isthing=int(i < num_things))
        for i in range(num_things + num_stuff)
    ]


def _ellipse(shape, cy, cx, ry, rx):
    """Boolean ``shape`` mask of an axis-aligned ellipse."""
    mask = np.zeros(shape, dtype=bool)
    y0, y1 = max(int(cy - ry), 0), min(int(cy + ry) + 2, shape[0])
    x0, x1 = max(int(cx - rx), 0), min(int(cx + rx) + 2, shape[1])
    if y0 < y1 and x0 < x1:  # only the bounding box is computed
        yy, xx = np.ogrid[y0:y1, x0:x1]
        mask[y0:y1, x0:x1] = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 <= 1
    return mask


def _shift(mask, dy, dx):
    """Mask moved by ``(dy, dx)`` pixels, zero-filled (no wrap-around)."""
    out = np.zeros_like(mask)
    h, w = mask.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        mask[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def _id_source(rng):
    """Fresh random segment ids below 2**24 (they must fit an RGB PNG)."""
    return iter(dict.fromkeys(rng.integers(1, 1 << 24, 400).tolist())).__next__


def _segments(id_map, drafts):
    """The drafted segments still visible, once each, with their areas."""
    ids, counts = np.unique(id_map, return_counts=True)
    area, first = dict(zip(ids.tolist(), counts.tolist())), {}
    for seg in drafts:
        first.setdefault(seg['id'], seg)
    return [dict(s, area=area[i]) for i, s in first.items() if i in area]


def make_gt(rng: np.random.Generator, height: int, width: int,
            categories: Sequence[dict]) -> Tuple[np.ndarray, List[dict]]:
    """A COCO-like GT: 3-5 stuff regions, ~15 things, crowd, VOID.

    Returns:
        tuple: ``(H, W)`` int32 id map (0 = VOID) and ``segments_info``.
    """
    things = [c for c in categories if c['isthing']]
    stuff = [c for c in categories if not c['isthing']]
    new_id, drafts = _id_source(rng), []
    # Stuff: a Voronoi partition on an 8-pixel grid (blocky borders).
    h8, w8, k = -(-height // 8), -(-width // 8), int(rng.integers(3, 6))
    seeds = rng.uniform(0, 1, (k, 2)) * (h8, w8)
    yy, xx = np.mgrid[:h8, :w8]
    dist = (yy - seeds[:, :1, None])**2 + (xx - seeds[:, 1:, None])**2
    region = dist.argmin(0).repeat(8, 0).repeat(8, 1)[:height, :width]
    id_map = np.zeros((height, width), dtype=np.int32)
    for r, c in enumerate(rng.choice(len(stuff), k, replace=False)):
        drafts.append(dict(id=new_id(), category_id=stuff[c]['id'], iscrowd=0))
        id_map[region == r] = drafts[-1]['id']
    num_things = int(rng.integers(10, 20))
    crowd_at = int(rng.integers(num_things)) if rng.random() < 1 / 6 else -1
    for i in range(num_things):
        cat = things[rng.integers(len(things))]['id']
        drafts.append(
            dict(id=new_id(), category_id=cat, iscrowd=int(i == crowd_at)))
        if i == crowd_at:  # a cluster of small blobs forming ONE segment
            cy, cx = rng.uniform(0, 1, 2) * (height, width)
            for _ in range(rng.integers(5, 10)):
                dy, dx = rng.normal(0, 25, 2)
                id_map[_ellipse(id_map.shape, cy + dy, cx + dx,
                                *rng.uniform(4, 10, 2))] = drafts[-1]['id']
            continue
        ry, rx = np.exp(rng.uniform(math.log(6), math.log(90), 2))
        cy, cx = rng.uniform(0, 1, 2) * (height, width)
        id_map[_ellipse(id_map.shape, cy, cx, ry, rx)] = drafts[-1]['id']
    if rng.random() < 0.5:  # unlabelable blotches
        for _ in range(rng.integers(1, 4)):
            id_map[_ellipse(id_map.shape,
                            *rng.uniform(0, 1, 2) * (height, width),
                            *rng.uniform(5, 30, 2))] = 0
    if rng.random() < 0.2:  # an unlabelled border
        b = int(rng.integers(2, 5))
        id_map[:b], id_map[-b:], id_map[:, :b], id_map[:, -b:] = 0, 0, 0, 0
    return id_map, _segments(id_map, drafts)


def perturb_prediction(
        rng: np.random.Generator, gt_map: np.ndarray,
        gt_segments: Sequence[dict],
        categories: Sequence[dict]) -> Tuple[np.ndarray, List[dict]]:
    """A plausible prediction made by damaging a GT panoptic map.

    Each non-crowd GT segment is kept, shifted (up to 8 px), merged with an
    earlier one of its category, split along a line, given a wrong class
    or dropped (``ACTIONS``, ``ACTION_P``); a crowd region gets predicted
    instances inside it; extra segments come, some centred on GT VOID.
    Pixels nothing covers are void (0).

    Args:
        rng (np.random.Generator): Source of randomness.
        gt_map (np.ndarray): ``(H, W)`` GT ids, 0 = VOID.
        gt_segments, categories (Sequence[dict]): COCO's lists.

    Returns:
        tuple: ``(H, W)`` int32 predicted id map (ids below 2**24) and its
        ``segments_info`` (``id``, ``category_id``, ``area``).
    """
    isthing = {c['id']: c['isthing'] for c in categories}
    kinds = [[i for i, t in isthing.items() if t == k] for k in (0, 1)]
    shape, new_id = gt_map.shape, _id_source(rng)
    pred = np.zeros(shape, dtype=np.int32)
    drafts, last_of = [], {}

    def paint(mask, cat, seg_id=None):
        seg_id = seg_id or new_id()
        pred[mask] = seg_id
        drafts.append(dict(id=seg_id, category_id=cat))
        last_of[cat] = seg_id

    # Stuff first, then things on top, as panoptic fusion heads do.
    for seg in sorted(
            gt_segments, key=lambda s: isthing.get(s['category_id'], 1)):
        mask, cat = gt_map == seg['id'], seg['category_id']
        if seg.get('iscrowd', 0):
            ys, xs = np.nonzero(mask)
            for j in rng.integers(len(ys), size=rng.integers(1, 4)):
                paint(
                    _ellipse(shape, ys[j], xs[j], *rng.uniform(3, 9, 2)), cat)
            continue
        action = ACTIONS[rng.choice(len(ACTIONS), p=ACTION_P)]
        if action == 'missing':
            continue
        if action == 'shift':
            mask = _shift(mask, *(int(v) for v in rng.integers(-8, 9, 2)))
        elif action == 'wrong_class':
            cat = int(rng.choice(kinds[isthing.get(cat, 1)]))
        elif action == 'merge' and cat in last_of:
            paint(mask, cat, last_of[cat])
            continue
        elif action == 'split':
            ys, xs = np.nonzero(mask)
            angle = rng.uniform(0, math.pi)
            yy, xx = np.ogrid[:shape[0], :shape[1]]
            side = ((yy - ys.mean()) * math.cos(angle) +
                    (xx - xs.mean()) * math.sin(angle)) > 0
            paint(mask & side, cat)
            mask = mask & ~side
        paint(mask, cat)
    void = np.argwhere(gt_map == 0)
    for _ in range(rng.integers(0, 3)):  # extras, half of them on VOID
        on_void = len(void) and rng.random() < 0.5
        centre = void[rng.integers(
            len(void))] if on_void else (rng.uniform(0, 1, 2) * shape)
        paint(
            _ellipse(shape, *centre, *rng.uniform(4, 40, 2)),
            int(rng.choice(kinds[1])))
    return pred, _segments(pred, drafts)


def write_panoptic(json_path: str, folder: str, image_ids: Sequence[int],
                   maps: Sequence[np.ndarray],
                   segments: Sequence[Sequence[dict]],
                   categories: Sequence[dict]) -> List[dict]:
    """Write a COCO panoptic JSON (without ``images``) and its PNGs;
    return its annotations."""
    os.makedirs(folder, exist_ok=True)
    anns = []
    for image_id, id_map, segs in zip(image_ids, maps, segments):
        name = f'{image_id:012d}.png'
        Image.fromarray(id2rgb(id_map)).save(osp.join(folder, name))
        anns.append(
            dict(image_id=image_id, file_name=name, segments_info=list(segs)))
    with open(json_path, 'w') as f:
        json.dump(dict(annotations=anns, categories=list(categories)), f)
    return anns


def _make_pair(args):
    """One (GT, prediction) pair; a function of ``(seed, index)`` only."""
    seed, index, height, width, categories = args
    rng = np.random.default_rng([seed, index])
    gt_map, gt_segs = make_gt(rng, height, width, categories)
    return (gt_map, gt_segs) + perturb_prediction(rng, gt_map, gt_segs,
                                                  categories)


def _timed(fn: Callable, device: str) -> Tuple[object, float]:
    """``fn()`` (its prints muted) and its wall time, GPU work included."""
    sync = torch.cuda.synchronize if 'cuda' in device else (lambda: None)
    sync()
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        out = fn()
    sync()
    return out, time.perf_counter() - start


def _max_diff(a: dict, b: dict) -> float:
    """Largest difference between two ``pq_compute`` results."""
    pairs = [(a[g], b[g]) for g in ('All', 'Things', 'Stuff')] + [
        (a['per_class'][c], b['per_class'][c]) for c in a['per_class']
    ]
    return max(abs(x[k] - y[k]) for x, y in pairs for k in ('pq', 'sq', 'rq'))


def _write_files(folder, pairs, num_images, reference_images, cats):
    """PNGs of the unique pairs; JSONs of all and of the reference images,
    whose annotations cycle through the unique PNGs."""
    files = {}
    for side, col in (('gt', 0), ('pred', 2)):
        files[side] = osp.join(folder, side)
        anns = write_panoptic(
            osp.join(folder, f'{side}.json'), files[side],
            range(1,
                  len(pairs) + 1), *zip(*[p[col:col + 2] for p in pairs]),
            cats)
        for n, name in ((num_images, 'all'), (reference_images, 'ref')):
            files[side, name] = osp.join(folder, f'{side}_{name}.json')
            cycled = [
                dict(anns[i % len(anns)], image_id=i + 1) for i in range(n)
            ]
            with open(files[side, name], 'w') as f:
                json.dump(dict(annotations=cycled, categories=cats), f)
    return files


def run_benchmark(num_images: int = 5000,
                  unique_images: int = 300,
                  height: int = 480,
                  width: int = 640,
                  reference_images: int = 200,
                  device: str = 'auto',
                  batch_size: int = 64,
                  seed: int = 0,
                  out: Callable[[str], None] = print) -> Dict[str, float]:
    """Time our PQ against panopticapi (and hotcoco) in one run; raise
    ``AssertionError`` if any two of them disagree on a number.

    The images cycle through ``unique_images`` generated pairs (5,000
    distinct 640x480 pairs take 12 GB as int32 maps); each is evaluated on
    its own and the JSONs list ``num_images`` annotations.

    Returns:
        dict[str, float]: Images per second of each timed path.
    """
    if device == 'auto':
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    cats, unique = benchmark_categories(), min(unique_images, num_images)
    num_ref = min(reference_images, num_images)
    with multiprocessing.Pool() as pool:
        pairs = pool.map(_make_pair, [(seed, i, height, width, cats)
                                      for i in range(unique)])
    tmp = tempfile.TemporaryDirectory(prefix='pq_benchmark_')
    files = _write_files(tmp.name, pairs, num_images, num_ref, cats)
    out(f'{num_images} images of {width}x{height} ({unique} distinct), '
        f'{np.mean([len(p[1]) for p in pairs]):.1f} GT and '
        f'{np.mean([len(p[3]) for p in pairs]):.1f} predicted segments '
        f'per image; {os.cpu_count()} CPUs, torch {torch.__version__}')
    images = [(i, pairs[i % unique][1], pairs[i % unique][3])
              for i in range(num_images)]
    label_of = {c['id']: i for i, c in enumerate(cats)}

    def summary(matches):
        stat = pq_ops.accumulate(matches.cpu(), len(cats),
                                 multiprocessing.cpu_count())
        return pq_ops.pq_results(stat, cats)

    def in_memory(dev, num=num_images):  # CPU: threads, one image each
        maps = [[torch.from_numpy(p[c]) for p in pairs] for c in (0, 2)]
        return lambda: summary(
            evaluate_images(
                lambda k: (maps[0][k % unique], maps[1][k % unique]),
                images[:num],
                cats,
                batch_size=batch_size))

    def on_gpu(dev, prebuilt=False):  # maps already there, as model outputs
        maps = [
            torch.stack([torch.from_numpy(p[c]) for p in pairs]).to(dev)
            for c in (0, 2)
        ]

        def batches():
            for s in range(0, num_images, batch_size):
                ks = range(s, min(s + batch_size, num_images))
                yield (torch.tensor(ks) % unique).to(dev), [
                    segment_table([images[k][c] for k in ks], label_of).to(dev)
                    for c in (1, 2)
                ]

        ready = list(batches()) if prebuilt else None

        def run():
            parts = []
            for idx, (gt, pred) in ready or batches():
                counts = pq_ops.confusion(maps[0][idx], maps[1][idx], gt, pred)
                parts.append(pq_ops.match_segments(counts, gt, pred))
            return summary(pq_ops.PQMatches.cat(parts))

        return run

    def args(name):  # pq_compute's arguments for 'all' or 'ref' images
        return files['gt', name], files['pred',
                                        name], files['gt'], files['pred']

    def from_files(dev, name='all'):
        return lambda: pq_compute(
            *args(name), device=dev, batch_size=batch_size)

    paths = [('ours, CPU, in memory', 'cpu', in_memory),
             ('ours, CPU, from files', 'cpu', from_files)]
    if device.startswith('cuda'):
        on_gpu(device)()  # warm-up: CUDA context and kernels
        paths += [('ours, GPU, in memory', device, on_gpu),
                  ('ours, GPU, tables ready', device,
                   lambda dev: on_gpu(dev, True)),
                  ('ours, GPU, from files', device, from_files)]
    in_memory('cpu', 8)()  # warm-up: the lookup tables
    rows, results = [], {}
    for name, dev, path in paths:
        results[name], seconds = _timed(path(dev), dev)
        rows.append((name, num_images, seconds))
    from panopticapi.evaluation import pq_compute as reference
    ref, seconds = _timed(lambda: reference(*args('ref')), 'cpu')
    rows.append(('panopticapi pq_compute', num_ref, seconds))
    base = results['ours, CPU, in memory']
    checks = [('ours == panopticapi (same images), bit for bit',
               from_files('cpu', 'ref')() == ref)]
    checks += [(f'{name} == ours, CPU, in memory', res == base)
               for name, res in results.items()]
    try:
        from hotcoco.panoptic import pq_compute as hotcoco
        hot, seconds = _timed(lambda: hotcoco(*args('all')), 'cpu')
        rows.append(('hotcoco pq_compute', num_images, seconds))
        diff = _max_diff(base, hot)
        checks.append((f'hotcoco within 1e-9 (max diff {diff:.1e})', diff
                       <= 1e-9))
    except ImportError:
        out('hotcoco is not installed: its row is left out')
    tmp.cleanup()
    speed = {name: n / s for name, n, s in rows}
    out(_table(rows, speed))
    out('PQ {:.4f}  SQ {:.4f}  RQ {:.4f}'.format(*(100 * base['All'][k]
                                                   for k in ('pq', 'sq',
                                                             'rq'))))
    for text, ok in checks:
        out(f'[{"ok" if ok else "FAILED"}] {text}')
    if not all(ok for _, ok in checks):
        raise AssertionError('our numbers differ from the reference')
    return speed


def _table(rows: list, speed: Dict[str, float]) -> str:
    """Rows of (path, images, seconds) with images/s and speed-ups."""
    refs = [
        r for r in ('panopticapi pq_compute', 'hotcoco pq_compute')
        if r in speed
    ]
    head = f'{"path":<30}{"images":>8}{"seconds":>10}{"images/s":>11}' + \
        ''.join(f'{"vs " + r.split()[0]:>16}' for r in refs)
    return '\n'.join([head, '-' * len(head)] + [
        f'{name:<30}{n:>8}{sec:>10.2f}{speed[name]:>11.0f}' +
        ''.join(f'{speed[name] / speed[r]:>15.2f}x' for r in refs)
        for name, n, sec in rows
    ])
