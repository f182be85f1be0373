"""Panoptic quality (PQ): panopticapi's rules as array operations.

panopticapi's ``pq_compute_single_core`` loops over the segment pairs of an
image in Python. Here one ``bincount`` over the combined compact ids of a
batch gives every intersection, and the matching, crowd and VOID rules are
tensor expressions on those ``(B, G + 2, P + 2)`` counts: the same code on
CPU and GPU. Compact index of a pixel, GT and prediction alike:

- ``VOID`` (0): id 0 when no listed segment has it (GT VOID, or the
  prediction's void);
- ``OTHER`` (1): an id not 0 and not listed (GT: an id missing from the
  JSON, which panopticapi treats as an unlabelled region; prediction: a
  format error the caller checks);
- ``FIRST + k``: the k-th listed segment, sorted by id so that pairs come
  in panopticapi's order (``np.unique`` of ``gt * 2**24 + pred``).

Bit-exactness: decisions are panopticapi's float64 expressions, IoUs are
summed one at a time in its order (:meth:`PQStat.add`) and
:func:`pq_average` repeats its arithmetic. ``pq_compute`` also splits the
images over ``cpu_count()`` workers; :func:`accumulate` takes that split.
"""
import queue
from typing import NamedTuple, Optional, Sequence, Union

import torch
from torch import Tensor

VOID = 0
OTHER = 1
FIRST = 2
_LUT_SIZE = 1 << 24  # every id decoded from an RGB PNG is below this


class SegmentTable(NamedTuple):
    """The segments of B images, padded to S per image (all ``(B, S)``).

    Attributes:
        ids (Tensor): int64 segment ids, ascending; padding is int64 max.
        labels (Tensor): int64 category index, -1 for padding and for
            segments that never match (GT of a category not evaluated,
            prediction of an unknown category, prediction void).
        iscrowd (Tensor): bool; never matched, never a FN.
        crowd_region (Tensor): bool; the crowd segment that excuses
            unmatched predictions of its category (panopticapi keeps the
            last of each category, in JSON order).
        areas (Tensor): float64 JSON areas (panopticapi's GT union uses
            them); NaN means count the pixels.
        num (Tensor): ``(B,)`` int64 number of segments in each row.
    """
    ids: Tensor
    labels: Tensor
    iscrowd: Tensor
    crowd_region: Tensor
    areas: Tensor
    num: Tensor

    def to(self, device: Union[str, torch.device]) -> 'SegmentTable':
        return SegmentTable(*(t.to(device, non_blocking=True) for t in self))


def compact_ids(id_maps: Tensor, ids: Tensor) -> Tensor:
    """``(B, N)`` int ids -> ``(B, N)`` int32 compact indices, by a binary
    search in ``(B, S)`` sorted :attr:`SegmentTable.ids` (batched)."""
    if id_maps.dtype not in (torch.int32, torch.int64):
        id_maps = id_maps.long()
    pad = torch.iinfo(id_maps.dtype).max
    # int64 padding does not fit an int32 map: re-pad in the map's dtype.
    table = ids.clamp(max=pad).to(id_maps.dtype).contiguous()
    pos = torch.searchsorted(table, id_maps, out_int32=True)
    found = table.gather(1, pos.clamp(max=table.shape[1] - 1).long())
    return torch.where(found == id_maps, pos + FIRST, (id_maps != 0).int())


# Lookup tables shared by all threads: a fresh 64 MiB one costs ~20 ms.
_luts: 'queue.SimpleQueue[Tensor]' = queue.SimpleQueue()


def _compact_lut(id_map: Tensor, ids: Tensor, size: int = _LUT_SIZE) -> Tensor:
    """Compact one image's ``(N,)`` ids by a lookup in a 64 MiB table read
    at ~20 places (on a CPU ~50x cheaper than a binary search)."""
    if id_map.dtype not in (torch.int32, torch.int64):
        id_map = id_map.long()
    size = max(size, int(ids[-1]) + 1 if len(ids) else 0)
    try:
        lut = _luts.get_nowait()
    except queue.Empty:
        lut = None
    if lut is None or lut.numel() < size:  # all OTHER but id 0: VOID
        lut = torch.full((size, ), OTHER, dtype=torch.int32)
        lut[0] = VOID
    lut[ids] = torch.arange(FIRST, FIRST + len(ids), dtype=torch.int32)
    try:
        return lut.index_select(0, id_map)
    except (IndexError, RuntimeError):  # an id past the table's end
        low, high = torch.aminmax(id_map)
        if low < 0:
            raise ValueError(
                f'segment ids must be >= 0, got {int(low)}') from None
        if high < lut.numel():
            raise
        size = int(high) + 1
    finally:
        lut[ids] = OTHER
        lut[0] = VOID
        _luts.put(lut)
    return _compact_lut(id_map, ids, size)


def confusion(gt_maps: Union[Tensor, Sequence[Tensor]],
              pred_maps: Union[Tensor, Sequence[Tensor]], gt: SegmentTable,
              pred: SegmentTable) -> Tensor:
    """Count the pixels of every (GT index, predicted index) pair.

    On a GPU one batched binary search and one ``bincount`` per batch; on
    a CPU a table lookup and a ``bincount`` per image.

    Args:
        gt_maps (Tensor | Sequence[Tensor]): ``(B, H, W)`` or B maps of
            integer segment ids (panopticapi's ``rgb2id`` values).
        pred_maps (Tensor | Sequence[Tensor]): Predicted ids, same shapes.
        gt, pred (SegmentTable): G and P segments per row, on the maps'
            device.

    Returns:
        Tensor: ``(B, G + 2, P + 2)`` int64 counts by compact index.
    """
    num_images, width_g = gt.ids.shape
    width_p = pred.ids.shape[1]
    size_g, size_p = width_g + FIRST, width_p + FIRST
    device = gt.ids.device
    shapes = {m.shape for m in list(gt_maps) + list(pred_maps)}
    if device.type != 'cpu' and len(shapes) == 1:
        g = compact_ids(torch.stack(list(gt_maps)).flatten(1), gt.ids)
        p = compact_ids(torch.stack(list(pred_maps)).flatten(1), pred.ids)
        size = num_images * size_g * size_p
        # A flat region sends a warp's atomic adds to one bin: spreading
        # neighbouring pixels over copies of the histogram is 6x faster.
        copies = max(1, min(32, (1 << 24) // size))
        if size * copies >= 2**31:
            g, p = g.long(), p.long()
        # (B, N) joint index: copy, image, GT index, predicted index.
        joint = g * size_p + p
        joint += torch.arange(
            0, size, size_g * size_p, device=device, dtype=joint.dtype)[:,
                                                                        None]
        joint += torch.arange(
            joint.shape[1], device=device, dtype=joint.dtype) % copies * size
        counts = torch.bincount(joint.flatten(), minlength=size * copies)
        counts = counts.view(copies, size).sum(0)
        return counts.view(num_images, size_g, size_p)
    counts = torch.zeros((num_images, size_g, size_p),
                         dtype=torch.int64,
                         device=device)
    for b in range(num_images):
        one = confusion_single(gt_maps[b], pred_maps[b], gt.ids[b, :gt.num[b]],
                               pred.ids[b, :pred.num[b]])
        counts[b, :one.shape[0], :one.shape[1]] = one
    return counts


def confusion_single(gt_map: Tensor, pred_map: Tensor, gt_ids: Tensor,
                     pred_ids: Tensor) -> Tensor:
    """:func:`confusion` of one image with its g and p sorted ids; returns
    ``(g + 2, p + 2)`` int64 counts."""
    gt_map, pred_map = gt_map.flatten(), pred_map.flatten()
    if gt_map.shape != pred_map.shape:
        raise ValueError(f'GT map of {gt_map.numel()} pixels, predicted '
                         f'map of {pred_map.numel()}')
    if gt_map.device.type == 'cpu':
        g, p = _compact_lut(gt_map, gt_ids), _compact_lut(pred_map, pred_ids)
    else:
        g = compact_ids(gt_map[None], gt_ids[None])[0]
        p = compact_ids(pred_map[None], pred_ids[None])[0]
    size_p = len(pred_ids) + FIRST
    counts = torch.bincount(
        torch.add(p, g, alpha=size_p),
        minlength=(len(gt_ids) + FIRST) * size_p)
    return counts.view(-1, size_p)


class PQMatches(NamedTuple):
    """Per-segment outcome of B images, in panopticapi's order.

    ``*_image`` is the image's position; TPs come sorted by image, then GT
    id, then predicted id. Tensors are 1-D int64 (``tp_ious`` float64).

    Attributes:
        tp_image, tp_labels, tp_ious (Tensor): ``(M,)`` image, category
            index and IoU of each matched pair.
        fp_image, fp_labels (Tensor): ``(F,)`` false positives.
        fn_image, fn_labels (Tensor): ``(Q,)`` false negatives.
        num_images (int): B.
    """
    tp_image: Tensor
    tp_labels: Tensor
    tp_ious: Tensor
    fp_image: Tensor
    fp_labels: Tensor
    fn_image: Tensor
    fn_labels: Tensor
    num_images: int

    def cpu(self) -> 'PQMatches':
        return PQMatches(*(t.cpu() for t in self[:7]), self.num_images)

    def images(self, start: int, stop: int) -> 'PQMatches':
        """The matches of images ``start:stop``, renumbered from 0."""
        fields = []
        for image, *rest in ((self.tp_image, self.tp_labels,
                              self.tp_ious), (self.fp_image, self.fp_labels),
                             (self.fn_image, self.fn_labels)):
            keep = (image >= start) & (image < stop)
            fields += [image[keep] - start] + [t[keep] for t in rest]
        return PQMatches(*fields, min(stop, self.num_images) - start)

    @staticmethod
    def cat(parts: Sequence['PQMatches']) -> 'PQMatches':
        """Concatenate the matches of consecutive batches."""
        fields, offset = [[] for _ in range(7)], 0
        for part in parts:
            for i, t in enumerate(part[:7]):
                fields[i].append(t + offset if i in (0, 3, 5) else t)
            offset += part.num_images
        if not parts:
            return empty_matches()
        return PQMatches(*(torch.cat(f) for f in fields), offset)


def empty_matches(num_images: int = 0) -> PQMatches:
    """Matches of ``num_images`` images without any segment."""
    long = torch.zeros(0, dtype=torch.int64)
    return PQMatches(long, long, long.double(), long, long, long, long,
                     num_images)


def match_segments(counts: Tensor, gt: SegmentTable,
                   pred: SegmentTable) -> PQMatches:
    """panopticapi's per-image rules on a batch of pair counts.

    Same category, GT not crowd and ``inter / (area_pred + area_gt - inter
    - void_pred) > 0.5`` (``void_pred``: overlap with GT VOID) is a match;
    an unmatched non-crowd GT is a FN; an unmatched prediction is a FP
    unless more than half of it is GT VOID plus its category's crowd.

    Args:
        counts (Tensor): ``(B, G + 2, P + 2)`` from :func:`confusion`.
        gt, pred (SegmentTable): G and P segments per row.

    Returns:
        PQMatches: On the device of ``counts``.
    """
    counts = counts.double()  # exact: pixel counts are far below 2**53
    inter = counts[:, FIRST:, FIRST:]  # (B, G, P)
    pred_area = counts[:, :, FIRST:].sum(1)  # (B, P)
    void = counts[:, VOID, FIRST:]  # (B, P)
    gt_area = torch.where(gt.areas.isnan(), counts[:, FIRST:].sum(2),
                          gt.areas)  # (B, G)
    # panopticapi's expression, in its order of operations.
    union = pred_area[:, None] + gt_area[:, :, None] - inter - void[:, None]
    iou = inter / union
    same = (gt.labels[:, :, None] == pred.labels[:, None]) & (
        gt.labels >= 0)[:, :, None]  # (B, G, P)
    match = same & ~gt.iscrowd[:, :, None] & (inter > 0) & (iou > 0.5)
    tp_image, tp_gt, _ = match.nonzero(as_tuple=True)  # row-major order
    gt_matched, pred_matched = match.any(2), match.any(1)
    fn = (gt.labels >= 0) & ~gt.iscrowd & ~gt_matched
    crowd = (inter * (same & gt.crowd_region[:, :, None])).sum(1)
    excused = (void + crowd) / pred_area > 0.5
    fp = (pred.labels >= 0) & ~pred_matched & ~excused
    fp_image, fp_pos = fp.nonzero(as_tuple=True)
    fn_image, fn_pos = fn.nonzero(as_tuple=True)
    return PQMatches(
        tp_image=tp_image,
        tp_labels=gt.labels[tp_image, tp_gt],
        tp_ious=iou[match],
        fp_image=fp_image,
        fp_labels=pred.labels[fp_image, fp_pos],
        fn_image=fn_image,
        fn_labels=gt.labels[fn_image, fn_pos],
        num_images=len(counts))


class PQStat:
    """panopticapi's ``PQStat`` as ``(C,)`` arrays: TP, FP, FN counts and
    IoU sums per category index. ``a + b`` is its ``__iadd__`` (how
    ``pq_compute`` merges workers and how ranks merge)."""

    def __init__(self, num_classes: int) -> None:
        self.tp, self.fp, self.fn = torch.zeros((3, num_classes),
                                                dtype=torch.int64)
        self.iou = torch.zeros(num_classes, dtype=torch.float64)

    @property
    def num_classes(self) -> int:
        return len(self.tp)

    def add(self, matches: PQMatches) -> 'PQStat':
        """Add a batch's matches in place, pair by pair in their order.

        The IoUs are summed one at a time, left to right, because float
        addition is not associative and panopticapi adds them so.
        """
        matches = matches.cpu()
        for name in ('tp', 'fp', 'fn'):
            count = torch.bincount(
                getattr(matches, f'{name}_labels'), minlength=self.num_classes)
            if len(count) > self.num_classes:
                raise ValueError(f'a category index >= {self.num_classes}')
            getattr(self, name).add_(count)
        sums = self.iou.tolist()
        for label, iou in zip(matches.tp_labels.tolist(),
                              matches.tp_ious.tolist()):
            sums[label] += iou
        self.iou = torch.tensor(sums, dtype=torch.float64)
        return self

    def __add__(self, other: 'PQStat') -> 'PQStat':
        out = PQStat(self.num_classes)
        for name in ('tp', 'fp', 'fn', 'iou'):
            setattr(out, name, getattr(self, name) + getattr(other, name))
        return out


def accumulate(matches: PQMatches,
               num_classes: int,
               num_chunks: int = 1) -> PQStat:
    """Sum images in order, in ``num_chunks`` chunks merged at the end.

    ``pq_compute`` sums ``np.array_split(images, cpu_count())`` in its
    workers, then adds their ``PQStat`` s: with ``num_chunks`` equal to
    its ``cpu_count()`` the IoU sums are bit-identical to it.
    """
    total = PQStat(num_classes)
    num, k = matches.num_images, max(1, num_chunks)
    start = 0
    for i in range(k):  # np.array_split's sizes: the first ones get +1
        stop = start + num // k + (i < num % k)
        total = total + PQStat(num_classes).add(matches.images(start, stop))
        start = stop
    return total


def pq_average(stat: PQStat, categories: Sequence[dict],
               isthing: Optional[bool]) -> tuple:
    """panopticapi's ``PQStat.pq_average``, operation by operation.

    Args:
        stat (PQStat): Statistics; index i is ``categories[i]``.
        categories (Sequence[dict]): GT JSON categories (``id``,
            ``isthing``) in the JSON's order.
        isthing (bool | None): Things only, stuff only, or all.

    Returns:
        tuple[dict, dict]: ``{'pq', 'sq', 'rq', 'n'}`` over the ``n``
        categories with a TP, FP or FN (0.0 when ``n`` is 0, where
        panopticapi divides by zero) and ``{category_id: {'pq', 'sq',
        'rq'}}``.
    """
    pq, sq, rq, n = 0, 0, 0, 0
    per_class = {}
    for label, cat in enumerate(categories):
        if isthing is not None and (cat['isthing'] == 1) != isthing:
            continue
        iou = float(stat.iou[label])
        tp, fp, fn = (int(t[label]) for t in (stat.tp, stat.fp, stat.fn))
        if tp + fp + fn == 0:
            per_class[cat['id']] = {'pq': 0.0, 'sq': 0.0, 'rq': 0.0}
            continue
        n += 1
        pq_class = iou / (tp + 0.5 * fp + 0.5 * fn)
        sq_class = iou / tp if tp != 0 else 0  # an int 0, as panopticapi
        rq_class = tp / (tp + 0.5 * fp + 0.5 * fn)
        per_class[cat['id']] = {'pq': pq_class, 'sq': sq_class, 'rq': rq_class}
        pq += pq_class
        sq += sq_class
        rq += rq_class
    if n == 0:
        return {'pq': 0.0, 'sq': 0.0, 'rq': 0.0, 'n': 0}, per_class
    return {'pq': pq / n, 'sq': sq / n, 'rq': rq / n, 'n': n}, per_class


def pq_results(stat: PQStat, categories: Sequence[dict]) -> dict:
    """The dict that panopticapi's ``pq_compute`` returns (fractions).

    Returns:
        dict: ``{'All', 'per_class', 'Things', 'Stuff'}`` in that order;
        each group is ``{'pq', 'sq', 'rq', 'n'}``, ``per_class`` maps a
        category id to ``{'pq', 'sq', 'rq'}``.
    """
    results = {}
    for name, isthing in (('All', None), ('Things', True), ('Stuff', False)):
        results[name], per_class = pq_average(stat, categories, isthing)
        if name == 'All':
            results['per_class'] = per_class
    return results
