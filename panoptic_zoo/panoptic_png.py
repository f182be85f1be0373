"""COCO panoptic PNG encoding, and mmdet panoptic maps as COCO segments.

A COCO panoptic PNG stores segment id ``R + 256 * G + 256**2 * B`` per
pixel (panopticapi's ``rgb2id``); 0 is VOID. mmdet's panoptic maps hold
``label + instance_id * INSTANCE_OFFSET``, ``label == num_classes`` being
void. This module is the one place that converts between them.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

# mmdet.evaluation.functional.INSTANCE_OFFSET, without importing mmdet
# (this module is used by light tools too); checked equal in the tests.
INSTANCE_OFFSET = 1000


def id2rgb(id_map: np.ndarray) -> np.ndarray:
    """``(H, W)`` integer ids -> ``(H, W, 3)`` uint8 RGB (COCO panoptic)."""
    id_map = np.asarray(id_map, dtype=np.int64)
    if id_map.size and (id_map.min() < 0 or id_map.max() >= 256**3):
        raise ValueError('COCO panoptic ids must be in [0, 256**3), got '
                         f'[{id_map.min()}, {id_map.max()}]')
    return np.stack([id_map % 256, id_map // 256 % 256, id_map // 65536],
                    -1).astype(np.uint8)


def rgb2id(color) -> np.ndarray:
    """``(..., 3)`` RGB (array or one triple) -> ids, ``R + 256 G + 256² B``.

    A single ``(r, g, b)`` sequence gives a Python int.
    """
    arr = np.asarray(color)
    ids = (arr[..., 0].astype(np.int64) + 256 * arr[..., 1].astype(np.int64)
           + 65536 * arr[..., 2].astype(np.int64))
    return int(ids) if arr.ndim == 1 else ids


def segments_of(pan: np.ndarray, num_classes: int,
                instance_scores: Optional[Sequence[float]] = None
                ) -> Tuple[np.ndarray, List[dict]]:
    """An mmdet panoptic map as a COCO id map and its segments.

    A segment's COCO id is its mmdet value + 1, so that the value 0 (label
    0, no instance id) is not taken for VOID; void pixels get id 0.

    Args:
        pan (np.ndarray): (H, W) ints ``label + instance_id *
            INSTANCE_OFFSET``; labels ``>= num_classes`` are void.
        num_classes (int): Things + stuff.
        instance_scores (sequence of float, optional): Score of instance id
            ``k`` at index ``k - 1``, when the model gives them.

    Returns:
        tuple: ``(ids (H, W) int64, segments)``; each segment a dict with
        ``id``, ``label``, ``instance_id`` (0 for stuff), ``area``,
        ``bbox`` (COCO ``[x, y, w, h]``) and ``score`` (None if unknown),
        in increasing id order.
    """
    pan = np.asarray(pan, dtype=np.int64)
    values, inverse, areas = np.unique(
        pan, return_inverse=True, return_counts=True)
    labels = values % INSTANCE_OFFSET
    keep = labels < num_classes
    coco_ids = np.where(keep, values + 1, 0)
    ids = coco_ids[inverse.reshape(pan.shape)]
    segments = []
    for k in np.flatnonzero(keep):
        ys, xs = np.nonzero(ids == coco_ids[k])
        inst = int(values[k] // INSTANCE_OFFSET)
        score = None
        if inst and instance_scores is not None and inst <= len(
                instance_scores):
            score = float(instance_scores[inst - 1])
        segments.append(
            dict(
                id=int(coco_ids[k]),
                label=int(labels[k]),
                instance_id=inst,
                area=int(areas[k]),
                bbox=[
                    int(xs.min()),
                    int(ys.min()),
                    int(xs.max() - xs.min() + 1),
                    int(ys.max() - ys.min() + 1)
                ],
                score=score))
    return ids, segments


def coco_segments_info(segments: Sequence[dict],
                       category_ids: Sequence[int]) -> List[Dict]:
    """``segments_info`` of a COCO panoptic JSON from :func:`segments_of`
    segments; ``category_ids[label]`` is a label's category id."""
    return [
        dict(
            id=s['id'],
            category_id=int(category_ids[s['label']]),
            area=s['area'],
            bbox=s['bbox'],
            iscrowd=0) for s in segments
    ]
