"""Exact top-k multi-class NMS: a faster drop-in for mmdet's
``multiclass_nms`` when only the ``max_num`` best detections are kept.

Why: an R-CNN box head at test time hands ``multiclass_nms`` 1000 RoIs x 80
classes. With a low ``score_thr`` the candidates exceed mmcv's ``split_thr``
(10000) and ``mmcv.ops.batched_nms`` loops over classes, one ``nms`` call and
one ``nonzero`` each (~81 kernel launches + host syncs per image), although
only ``max_num`` (``max_per_img``, e.g. 100) detections survive.

Why it is exact: greedy NMS visits boxes in descending score and a box's
fate depends only on higher-scored boxes of its own class. So for the ``k``
best candidates (all classes together) one NMS call over class-offset boxes
(mmcv's trick: boxes of different classes are moved apart so they never
overlap) decides exactly what the full per-class NMS decides for them, and
every survivor outside the top ``k`` scores below all of them. Once ``k``
candidates give at least ``max_num`` survivors (or ``k`` is every candidate),
their first ``max_num`` are exactly mmdet's result; otherwise ``k`` doubles.

The fast path reproduces mmdet's split branch bit for bit: the class offsets
come from the maximum over *all* candidates and the same tensor ops, so each
box is compared with its own class in exactly the coordinates (and float
roundings) mmdet's per-class loop uses. Ties in score are ordered by the
(unstable) sorts of torch / mmcv in both; with exact ties at the ``max_num``
boundary either result is "right", and they may differ.

With ``class_agnostic=True`` (Panoptic FPN's test cfg) mmcv's split branch
still runs per class, on the boxes as they are: no offset call can
reproduce those coordinates, so the k best candidates go through one
same-class suppression matrix with mmcv's IoU arithmetic instead.

Everything outside these paths is handed to mmdet/mmcv unchanged (see
:func:`multiclass_nms_topk`).
"""
import importlib
from typing import Callable, Optional, Tuple, Union

import torch
from torch import Tensor

# The module, not the function: ``mmcv.ops.nms`` on the package is the
# function (it shadows the submodule). Looking ``nms`` / ``batched_nms`` up
# on the module at call time keeps one code path with mmcv (and lets tests
# count the ``nms`` calls of both).
_mmcv_nms = importlib.import_module('mmcv.ops.nms')

# First top-k round: 4 * max_num best candidates, at least 1000. Each round
# costs one nms call (and its host sync); mmcv's GPU nms on a few thousand
# boxes is one small kernel, so a generous first k that nearly always keeps
# >= max_num survivors (R-CNN: 1000 RoIs after RPN NMS, so the best
# candidates are spread over many boxes) is cheaper than a second round.
_MIN_FIRST_K = 1000
_FIRST_K_PER_MAX_NUM = 4

# nms_cfg keys the fast path understands; anything else goes to mmdet.
_KNOWN_KEYS = {
    'type', 'iou_threshold', 'iou_thr', 'class_agnostic', 'split_thr',
    'max_num', 'score_threshold', 'offset'
}


def _mmdet_multiclass_nms(*args, **kwargs):
    # Imported lazily: mmdet.models.layers imports (and registers) all of
    # mmdet.models; panoptic_zoo.ops stays free of models.
    from mmdet.models.layers import multiclass_nms
    return multiclass_nms(*args, **kwargs)


def _fast_path_limit(max_num: int, nms_cfg) -> int:
    """How many detections mmdet's split branch keeps (``<= 0``: all).

    Its split branch truncates to ``nms_cfg['max_num']`` and
    ``multiclass_nms`` then to ``max_num``; the smaller positive one wins.
    """
    limits = [m for m in (max_num, nms_cfg.get('max_num', -1)) if m > 0]
    return min(limits) if limits else -1


def _is_plain_nms(nms_cfg) -> bool:
    """True for hard greedy NMS with settings the fast path reproduces.

    soft_nms rescores (the top-k argument fails), rotated/quadri ops are
    other box types, ``offset=1`` widens boxes by one pixel so class-offset
    boxes could touch.
    """
    if not set(nms_cfg.keys()) <= _KNOWN_KEYS:
        return False
    nms_op = nms_cfg.get('type', 'nms')
    if not (nms_op == 'nms' or nms_op is _mmcv_nms.nms):
        return False
    return nms_cfg.get('offset', 0) == 0


def _offsets_separate_classes(bboxes: Tensor, max_coordinate: Tensor,
                              num_classes: int) -> bool:
    """Whether mmcv's class offsets keep boxes of different classes apart.

    Offset ``label * (max + 1)`` leaves a gap of ``1 + min`` between
    classes; it is a real gap only for ``min >= 0`` (mmdet's decoded boxes
    are clipped to the image) and only while float rounding of the shifted
    coordinates (<= 2 ulp of the largest one) stays below it. mmcv's
    per-class loop never compares classes, so this must hold for one call
    to equal it. Also False for NaN / inf boxes. One host sync.
    """
    if not bboxes.is_floating_point():
        return False
    mx, mn = torch.stack([max_coordinate, bboxes.min()]).tolist()
    largest = num_classes * (mx + 1)
    return mn >= 0 and largest * torch.finfo(bboxes.dtype).eps <= 0.25


def _first_survivors(scores: Tensor, limit: int,
                     survivors: Callable[[Tensor, Tensor], Tensor],
                     max_k: Optional[int] = None) -> Optional[Tensor]:
    """Indices (into ``scores``) of the first ``limit`` survivors of greedy
    NMS, in descending score, from the k best candidates: ``survivors(
    top_inds, top_scores)`` picks (indices or a mask, in score order) the
    ones that survive among them. k doubles until ``limit`` survive or
    every candidate is in; None once k would pass ``max_k``."""
    num = scores.numel()
    k = min(max(_FIRST_K_PER_MAX_NUM * limit, _MIN_FIRST_K), num)
    while max_k is None or k <= max_k:
        top_scores, top_inds = scores.topk(k)
        kept = top_inds[survivors(top_inds, top_scores)]
        if kept.numel() >= limit or k == num:
            return kept[:limit]
        k = min(2 * k, num)
    return None


def _topk_nms(bboxes: Tensor, scores: Tensor, labels: Tensor,
              max_coordinate: Tensor, nms_kwargs: dict, limit: int) -> Tensor:
    """Indices (into ``bboxes``) of the first ``limit`` survivors of
    per-class greedy NMS, in descending score: one mmcv ``nms`` call over
    class-offset boxes per round."""
    # Exactly mmcv's offsets for these boxes (same ops, same global max).
    offset_scale = max_coordinate + torch.tensor(1).to(bboxes)

    def survivors(top_inds: Tensor, top_scores: Tensor) -> Tensor:
        offsets = labels[top_inds].to(bboxes) * offset_scale
        boxes_for_nms = bboxes[top_inds] + offsets[:, None]
        return _mmcv_nms.nms(boxes_for_nms, top_scores, **nms_kwargs)[1]

    return _first_survivors(scores, limit, survivors)


# The suppression matrix of the un-offset path is k x k booleans: past this
# k (256 MiB) mmcv's per-class loop is the better tool.
_MAX_MATRIX_K = 16384


def _suppresses(boxes: Tensor, labels: Tensor, iou_threshold: float) -> Tensor:
    """(k, k): box i suppresses box j (i < j, same class, IoU above the
    threshold), decided with the arithmetic of mmcv's CUDA ``devIoU`` (its
    CPU ``nms`` divides instead; both differ only within float rounding of
    the threshold): ``inter > thr * (area_i + area_j - inter)``."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    width = (torch.minimum(x2[:, None], x2) -
             torch.maximum(x1[:, None], x1)).clamp(min=0)
    height = (torch.minimum(y2[:, None], y2) -
              torch.maximum(y1[:, None], y1)).clamp(min=0)
    inter = width * height
    area = (x2 - x1) * (y2 - y1)
    overlap = inter > iou_threshold * (area[:, None] + area - inter)
    later = torch.ones_like(overlap).triu(1)
    return overlap & later & (labels[:, None] == labels)


def _greedy_keep(suppresses: Tensor) -> Tensor:
    """Greedy NMS on a (k, k) suppression matrix of boxes in descending
    score: box j is kept iff no kept box before it suppresses it. Iterating
    ``keep = no kept suppressor`` from all-kept makes the first t boxes
    right after t rounds, and a fixed point is the greedy answer (it is
    unique): a few rounds in practice, one host sync each."""
    keep = suppresses.new_ones(suppresses.shape[0])
    while True:
        new = ~(suppresses & keep[:, None]).any(0)
        if torch.equal(new, keep):
            return keep
        keep = new


def _topk_nms_per_class(bboxes: Tensor, scores: Tensor, labels: Tensor,
                        iou_threshold: float, limit: int) -> Optional[Tensor]:
    """As :func:`_topk_nms`, for mmcv's split branch with
    ``class_agnostic=True``, which runs per class on *un-offset* boxes (so
    no offset call reproduces its coordinates): same-class greedy NMS on
    the k best candidates in one suppression matrix. None when k would pass
    ``_MAX_MATRIX_K``."""

    def survivors(top_inds: Tensor, _) -> Tensor:
        return _greedy_keep(
            _suppresses(bboxes[top_inds], labels[top_inds], iou_threshold))

    return _first_survivors(scores, limit, survivors, _MAX_MATRIX_K)


def multiclass_nms_topk(
    multi_bboxes: Tensor,
    multi_scores: Tensor,
    score_thr: float,
    nms_cfg,
    max_num: int = -1,
    score_factors: Optional[Tensor] = None,
    return_inds: bool = False,
    box_dim: int = 4
) -> Union[Tuple[Tensor, Tensor, Tensor], Tuple[Tensor, Tensor]]:
    """mmdet's ``multiclass_nms``, same arguments (same order) and results,
    exact, without mmcv's per-class loop when ``max_num`` bounds the output.

    Args:
        multi_bboxes (Tensor): (n, #class * box_dim) or (n, box_dim).
        multi_scores (Tensor): (n, #class + 1); the last (background)
            column is ignored.
        score_thr (float): candidates need a score ``> score_thr`` (before
            ``score_factors``).
        nms_cfg (dict | ConfigDict | None): as for ``mmcv.ops.batched_nms``.
        max_num (int): keep at most this many detections; ``<= 0``: all.
        score_factors (Tensor, optional): (n,) factors for the scores,
            applied after the threshold.
        return_inds (bool): also return the indices of the kept candidates
            in the flattened (n * #class) scores.
        box_dim (int): 4; other box types go to mmdet unchanged.

    Returns:
        tuple: ``(dets, labels[, inds])``, (k, box_dim + 1) with the score
        last, (k,) 0-based labels, (k,).

    Only mmcv's split branch (``>= split_thr`` candidates: one ``nms`` call
    per class) is replaced, by top-k rounds of one ``nms`` call each (one
    suppression matrix each with ``class_agnostic``). mmdet does the rest:
    no positive ``max_num`` (in the arguments or in ``nms_cfg``),
    ``box_dim != 4``, ``nms_cfg`` None, another NMS type or ``offset``,
    ONNX export, boxes for which the class offsets might not separate
    classes (negative, huge or non-finite coordinates, half precision);
    below ``split_thr`` mmcv's single ``nms`` call is made as mmdet makes
    it.
    """
    limit = (_fast_path_limit(max_num, nms_cfg) if nms_cfg is not None else -1)
    if (limit <= 0 or box_dim != 4 or not _is_plain_nms(nms_cfg)
            or torch.onnx.is_in_onnx_export()):
        return _mmdet_multiclass_nms(
            multi_bboxes,
            multi_scores,
            score_thr,
            nms_cfg,
            max_num,
            score_factors=score_factors,
            return_inds=return_inds,
            box_dim=box_dim)

    # mmdet's preprocessing, step for step (mmdet/models/layers/bbox_nms.py).
    num_classes = multi_scores.size(1) - 1
    if multi_bboxes.shape[1] > box_dim:  # per-class boxes
        bboxes = multi_bboxes.view(multi_scores.size(0), -1, box_dim)
    else:  # one box per row, shared by all classes
        bboxes = multi_bboxes[:, None].expand(
            multi_scores.size(0), num_classes, box_dim)
    scores = multi_scores[:, :-1]  # drop background
    labels = torch.arange(num_classes, dtype=torch.long, device=scores.device)
    labels = labels.view(1, -1).expand_as(scores)
    bboxes = bboxes.reshape(-1, box_dim)
    scores = scores.reshape(-1)
    labels = labels.reshape(-1)

    valid_mask = scores > score_thr  # threshold before the factors
    if score_factors is not None:
        score_factors = score_factors.view(-1, 1).expand(
            multi_scores.size(0), num_classes)
        score_factors = score_factors.reshape(-1)
        scores = scores * score_factors
    inds = valid_mask.nonzero(as_tuple=False).squeeze(1)
    bboxes, scores, labels = bboxes[inds], scores[inds], labels[inds]

    if bboxes.numel() == 0:
        dets = torch.cat([bboxes, scores[:, None]], -1)
        return (dets, labels, inds) if return_inds else (dets, labels)

    nms_kwargs = nms_cfg.copy()
    for key in ('type', 'class_agnostic', 'max_num'):
        nms_kwargs.pop(key, None)
    split_thr = nms_kwargs.pop('split_thr', 10000)

    keep = None
    if bboxes.shape[0] < split_thr:
        pass  # mmcv's one call, class-agnostic or offset: made below
    elif nms_cfg.get('class_agnostic', False):
        # mmcv's loop still runs per class here, on the boxes as they are.
        iou = nms_kwargs.pop('iou_threshold', nms_kwargs.pop('iou_thr', None))
        if iou is not None and not nms_kwargs.get('score_threshold', 0):
            keep = _topk_nms_per_class(bboxes, scores, labels, float(iou),
                                       limit)
        if keep is not None:
            dets = torch.cat([bboxes[keep], scores[keep][:, None]], -1)
    else:  # mmcv would loop over classes, on class-offset boxes
        max_coordinate = bboxes.max()
        if _offsets_separate_classes(bboxes, max_coordinate, num_classes):
            keep = _topk_nms(bboxes, scores, labels, max_coordinate,
                             nms_kwargs, limit)
            dets = torch.cat([bboxes[keep], scores[keep][:, None]], -1)
    if keep is None:  # mmcv's own call(s), as multiclass_nms makes them
        dets, keep = _mmcv_nms.batched_nms(bboxes, scores, labels, nms_cfg)

    if max_num > 0:
        dets = dets[:max_num]
        keep = keep[:max_num]
    if return_inds:
        return dets, labels[keep], inds[keep]
    return dets, labels[keep]
