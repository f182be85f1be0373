"""Panoptic FPN's heuristic fusion without host-device syncs.

mmdet's ``HeuristicFusionHead`` decides, per detection, with Python ``if``
on tensor values (``area == 0``, overlap > threshold, empty part), then
writes the map with boolean indexing and counts stuff with ``torch.unique``:
on a GPU each of those waits for the device, about three times per
detection. Here the decisions stay on the device as tensor flags and the
map is written once, so the host only queues kernels; the result is the
same tensor, bit for bit (``tests/models/fusion_heads/
test_sync_free_heuristic_fusion.py``).

Shape letters: N detections, H × W the map (P = H·W pixels), C the
semantic channels (S stuff + 1 for all things), T thing and S stuff
classes, L = max(T + S + 1, T + C) class slots.
"""
import math
from typing import Tuple

import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.utils import OptConfigType, OptMultiConfig
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from panoptic_zoo.registry import MODELS
from .heuristic_fusion_head import HeuristicFusionHead


def overlap_limits(areas: Tensor, overlap_thr: float,
                   num_pixels: int) -> Tensor:
    """The largest overlap each mask may have with the taken pixels and
    still be kept by mmdet's test ``intersect / (area + 1e-5) >
    overlap_thr`` (which drops it).

    That float32 test is monotone in ``intersect`` (conversion and
    division by a positive number round monotonically), so it keeps the
    masks with ``intersect <= limit``: one integer compare per detection
    in the loop instead of a division, a compare and an ``and``. Each of
    the (at most three) float32 roundings in it is below 2^-24 relative,
    so it agrees with the exact ``k > thr·d`` (d = area + 1e-5) except
    within ``thr·d·2^-22 + 1`` of ``thr·d``; the limit matters only when
    ``thr·d <= area + 1 <= P + 1``, so a window of half-width
    ``3 + (P + 1)·2^-22`` around ``floor(thr·d)``, tested with mmdet's own
    expression, holds it. ``test_overlap_limits`` checks the result
    against brute force.

    Args:
        areas (Tensor): (N,) int64 mask areas, in pixels.
        overlap_thr (float): mmdet's ``mask_overlap``.
        num_pixels (int): P, an upper bound of any area (host value).

    Returns:
        Tensor: (N,) int64 limits in [-1, area]; -1 drops the mask whatever
        its overlap (empty masks, or a negative threshold).
    """
    denom = areas + 1e-5  # (N,) float32: mmdet's expression, same dtype
    bound = float(num_pixels) + 1
    guess = (denom.double() * overlap_thr).clamp(-1, bound).floor().long()
    half = 3 + math.ceil(bound * 2**-22)
    offsets = torch.arange(-half, half + 1, device=areas.device)
    cand = (guess[:, None] + offsets).clamp(min=0)  # (N, 2·half + 1)
    cand = torch.minimum(cand, areas[:, None])
    kept = ~(cand / denom[:, None] > overlap_thr)  # mmdet's test, negated
    limits = torch.where(kept, cand, -1).amax(dim=1)  # (N,)
    return torch.where(areas > 0, limits, -1)


def _row_counts(rows: Tensor) -> Tensor:
    """(N,) int64 number of non-zero entries of each row of (N, P) ``rows``.

    One kernel on a GPU. On CPU a reduction along a dim first converts the
    whole tensor to int64 (~20x slower than a 1-D ``count_nonzero``), so
    rows are counted one by one there. The branch reads a device type, not
    a value.
    """
    if rows.device.type == 'cpu':
        return torch.stack([torch.count_nonzero(row) for row in rows])
    return torch.count_nonzero(rows.view(torch.bool), dim=1)


def lay_masks_sync_free(masks: Tensor, scores: Tensor,
                        overlap_thr: float) -> Tuple[Tensor, Tensor, Tensor]:
    """mmdet's ``_lay_masks`` as device flags: masks are placed by
    decreasing score; one is kept when non-empty and at most
    ``overlap_thr`` of its area is taken, and then fills its free pixels.

    The acceptance is sequential (each one depends on the union of the
    kept ones before it), so it stays a loop over detections, but each
    step is five element-wise/reduction kernels on (P,) vectors and no
    host read. Box-limited crops would be cheaper per step but their sizes
    are data, which the host would have to read.

    Args:
        masks (Tensor): (N, H, W) bool masks, N >= 1.
        scores (Tensor): (N,) detection scores.
        overlap_thr (float): Largest taken fraction of a kept mask.

    Returns:
        tuple[Tensor, Tensor, Tensor]:
        ``order`` (N,) int64, the score order (mmdet's ``argsort(-scores)``
        call, so ties break the same way); ``visible`` (N,) bool in score
        order, kept with at least one free pixel (mmdet's second loop
        numbers exactly these); ``owner`` (P,) int64, the score-order index
        of the kept mask owning each pixel, -1 where none does.
    """
    num = masks.shape[0]
    order = torch.argsort(-scores)  # (N,)
    # (N, P) 0/1 in score order. uint8, not bool: on CPU, bool ops with a
    # broadcast operand (the keep flag) are not vectorised, uint8 ones are.
    flat = masks[order].flatten(1).view(torch.uint8)
    areas = _row_counts(flat)  # (N,) int64
    limits = overlap_limits(areas, overlap_thr, flat.shape[1])
    taken = torch.zeros_like(flat[0])  # (P,) union of the kept masks
    inters, keeps = [], []
    # unbind: N views made by one call, not 2N indexing calls.
    for mask, limit in zip(flat.unbind(0), limits.unbind(0)):
        inter = torch.count_nonzero(mask & taken)  # () taken pixels
        keep = inter <= limit  # () bool, stays on the device
        taken |= mask * keep  # fresh buffer, not an activation
        inters.append(inter)
        keeps.append(keep)
    keep = torch.stack(keeps)  # (N,)
    # A kept mask fills area - inter free pixels (mmdet's `_part`).
    visible = keep & (torch.stack(inters) < areas)  # (N,)
    # mmdet's id of a pixel is the first kept mask covering it: weight the
    # kept masks N, N-1, ..., 1 in score order, 0 the others, and take the
    # largest weight over masks (a vectorised max on CPU, where argmax over
    # dim 0 is not). uint8 holds the weights when N < 256.
    weight_dtype = torch.uint8 if num < 256 else torch.int32
    ranks = torch.arange(num, 0, -1, device=flat.device)  # (N,) N..1
    weights = torch.where(keep, ranks, 0).to(weight_dtype)  # (N,)
    top = (flat * weights[:, None]).amax(dim=0).long()  # (P,) 0 if none
    return order, visible, torch.where(top > 0, num - top, -1)


def heuristic_panoptic_map(masks: Tensor, labels: Tensor, scores: Tensor,
                           seg_preds: Tensor, *, num_things_classes: int,
                           num_stuff_classes: int, overlap_thr: float,
                           stuff_area_limit: float) -> Tensor:
    """The panoptic map of mmdet's heuristic fusion, without host syncs.

    Things: the laid masks (:func:`lay_masks_sync_free`), class ``label``
    and instance ids 1, 2, ... over the visible ones in score order (mmdet
    renumbers ids that kept no pixel away). Stuff: argmax of
    ``seg_preds`` plus T. Stuff classes covering fewer than
    ``stuff_area_limit`` pixels become void (T + S), counted with a
    fixed-size ``scatter_add_`` (``bincount``/``unique`` read the size on
    the host).

    Args:
        masks (Tensor): (N, H, W) bool instance masks, N >= 0.
        labels (Tensor): (N,) int thing labels in [0, T).
        scores (Tensor): (N,) scores.
        seg_preds (Tensor): (C, H, W) semantic scores.
        num_things_classes (int): T.
        num_stuff_classes (int): S.
        overlap_thr (float): mmdet's ``mask_overlap``.
        stuff_area_limit (float): mmdet's ``stuff_area_limit``.

    Returns:
        Tensor: (H, W) int64, ``label + id * INSTANCE_OFFSET`` for things,
        the class for stuff, T + S for void.
    """
    height, width = seg_preds.shape[-2:]
    num_classes = num_things_classes + num_stuff_classes
    pan = seg_preds.argmax(dim=0).flatten() + num_things_classes  # (P,)
    if masks.shape[0] > 0:  # a shape, known on the host
        order, visible, owner = lay_masks_sync_free(masks, scores, overlap_thr)
        segment_ids = labels[order] + (
            torch.cumsum(visible, dim=0) * INSTANCE_OFFSET)  # (N,)
        pan = torch.where(owner >= 0, segment_ids[owner.clamp(min=0)], pan)
    classes = pan % INSTANCE_OFFSET  # (P,)
    slots = max(num_classes + 1, num_things_classes + seg_preds.shape[0])
    counts = pan.new_zeros(slots).scatter_add_(  # (L,) pixels per class
        0, classes, torch.ones_like(classes))
    is_stuff = torch.arange(slots, device=pan.device) >= num_things_classes
    too_small = (counts < stuff_area_limit) & is_stuff  # (L,)
    pan = torch.where(too_small[classes], num_classes, pan)
    return pan.view(height, width)


@MODELS.register_module()
class SyncFreeHeuristicFusionHead(HeuristicFusionHead):
    """Panoptic FPN's panoptic inference (Kirillov et al., Panoptic Feature
    Pyramid Networks, CVPR 2019, "Inference": instance overlaps resolved
    by score, instances over stuff, small or "other" stuff removed) with no
    host-device sync. It is mmdet's ``HeuristicFusionHead``, thresholds
    included (``mask_overlap``, ``stuff_area_limit``, which the paper does
    not give), bit for bit, as device work only
    (:func:`heuristic_panoptic_map`). ``predict`` returns device tensors;
    the caller's read of them is the only wait.

    Args:
        num_things_classes (int): T. Defaults to 80.
        num_stuff_classes (int): S. Defaults to 53.
        test_cfg (dict, optional): ``model.test_cfg.panoptic``, with
            ``mask_overlap`` and ``stuff_area_limit``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 *,
                 num_things_classes: int = 80,
                 num_stuff_classes: int = 53,
                 test_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            num_things_classes=num_things_classes,
            num_stuff_classes=num_stuff_classes,
            test_cfg=test_cfg,
            init_cfg=init_cfg)
        if test_cfg is not None:
            missing = {'mask_overlap', 'stuff_area_limit'} - set(test_cfg)
            if missing:
                raise KeyError(f'SyncFreeHeuristicFusionHead: test_cfg lacks '
                               f'{sorted(missing)}; got {dict(test_cfg)}')

    def _predict_single(self, mask_results: InstanceData,
                        seg_preds: Tensor) -> PixelData:
        """Fuse one image's instances and semantic map.

        Args:
            mask_results (:obj:`InstanceData`): N detections with ``masks``
                (N, H, W) bool, ``labels`` (N,) and ``scores`` (N,).
            seg_preds (Tensor): (S + 1, H, W) semantic scores.

        Returns:
            :obj:`PixelData`: ``sem_seg`` (1, H, W) int32 panoptic map.
        """
        masks = mask_results.masks
        if masks.dtype != torch.bool:
            raise TypeError('SyncFreeHeuristicFusionHead: masks must be '
                            f'bool (binary), got {masks.dtype}')
        if masks.shape[-2:] != seg_preds.shape[-2:]:
            raise ValueError(
                'SyncFreeHeuristicFusionHead: masks of size '
                f'{tuple(masks.shape[-2:])} but seg_preds of size '
                f'{tuple(seg_preds.shape[-2:])}')
        pan = heuristic_panoptic_map(
            masks,
            mask_results.labels,
            mask_results.scores,
            seg_preds,
            num_things_classes=self.num_things_classes,
            num_stuff_classes=self.num_stuff_classes,
            overlap_thr=self.test_cfg.mask_overlap,
            stuff_area_limit=self.test_cfg.stuff_area_limit)
        return PixelData(sem_seg=pan[None].int())
