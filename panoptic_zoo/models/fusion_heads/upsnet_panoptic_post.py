"""UPSNet test-time rules (FIDELITY.md §3), as pure functions of tensors.

The official code (uber-research/UPSNet ``operators/modules/
mask_removal.py`` and ``dataset/base_dataset.py`` ``get_unified_pan_result``)
applies, after the detector's score threshold and class-agnostic NMS:

1. :func:`remove_overlapping_masks`: same-class mask overlap removal;
2. the argmax of Z (see ``upsnet_panoptic_logits.panoptic_argmax``);
3. :func:`unify_panoptic`: majority-vote relabelling of instances to stuff,
   per-class small-stuff removal, unknown → void, and mmdet's encoding.

Shape letters: N detections, K kept instances, S stuff and T thing
classes, H × W the map, m the mask-logit side.
"""
from typing import Dict

import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from torch import Tensor

from .upsnet_panoptic_logits import paste_mask_logits


def remove_overlapping_masks(mask_logits: Tensor,
                             boxes: Tensor,
                             labels: Tensor,
                             scores: Tensor,
                             height: int,
                             width: int,
                             *,
                             overlap_thr: float = 0.3,
                             chunk_size: int = 32) -> Tensor:
    """Keep detections, best score first, whose binary mask (pasted logit
    > 0) is non-empty and overlaps the already kept masks *of the same
    class* by at most ``overlap_thr`` of its own area (official
    ``MaskRemoval``).

    Memory: one (chunk_size, H, W) paste plus one (H, W) union per class
    present.

    Args:
        mask_logits (Tensor): (N, m, m) mask logits of each detection's
            class.
        boxes (Tensor): (N, 4) boxes in map pixels.
        labels (Tensor): (N,) thing classes.
        scores (Tensor): (N,) detection scores.
        height (int): H of the map.
        width (int): W of the map.
        overlap_thr (float): Largest allowed overlap fraction.
        chunk_size (int): Detections pasted at a time.

    Returns:
        Tensor: (K,) long indices into the N detections, in descending
        score order.
    """
    order = torch.sort(scores, descending=True, stable=True)[1]
    unions: Dict[int, Tensor] = {}
    keep = []
    for start in range(0, order.numel(), chunk_size):
        idx = order[start:start + chunk_size]
        binary = paste_mask_logits(mask_logits[idx], boxes[idx], height,
                                   width) > 0  # (c, H, W)
        for mask, i in zip(binary, idx.tolist()):
            area = mask.sum()
            if area == 0:
                continue
            label = int(labels[i])
            union = unions.get(label)
            if union is not None and (mask & union).sum() > overlap_thr * area:
                continue
            unions[label] = mask if union is None else union | mask
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long, device=boxes.device)


def unify_panoptic(pan_index: Tensor,
                   sem_index: Tensor,
                   inst_labels: Tensor,
                   *,
                   num_things: int,
                   num_stuff: int,
                   relabel_to_stuff: bool = True,
                   stuff_area_limit: int = 0) -> Tensor:
    """Turn the argmax of Z into mmdet's panoptic encoding.

    Per instance segment, the majority class of the semantic argmax is
    taken: if it is the instance's class the instance stays; else if it
    is a stuff class covering ≥ 50 % of the segment, the segment becomes
    that stuff; else the instance stays. Then every stuff class whose
    total area is below ``stuff_area_limit`` becomes void (per class, not
    per connected region). Every other channel (the unknown one, S + K)
    is void.

    Args:
        pan_index (Tensor): (H, W) channel of Z: [0, S) stuff, [S, S + K)
            instance, S + K unknown.
        sem_index (Tensor): (H, W) semantic argmax in the stuff-first
            channel layout: [0, S) stuff, [S, S + T) things.
        inst_labels (Tensor): (K,) thing class of each instance channel.
        num_things (int): T.
        num_stuff (int): S.
        relabel_to_stuff (bool): Apply the majority-vote relabelling.
        stuff_area_limit (int): Smallest stuff area kept, in pixels.

    Returns:
        Tensor: (H, W) long: stuff ``T + s``, instance k ``label_k + (k + 1)
        * INSTANCE_OFFSET``, void ``T + S``.
    """
    num_classes = num_things + num_stuff
    num_inst = inst_labels.numel()
    num_sem = num_stuff + num_things
    pan_index = pan_index.long()
    is_inst = (pan_index >= num_stuff) & (pan_index < num_stuff + num_inst)
    inst_id = torch.where(is_inst, pan_index - num_stuff,
                          pan_index.new_zeros(()))  # (H, W)

    stuff_of = torch.full_like(pan_index, -1)  # stuff class, or -1
    stuff_of = torch.where(pan_index < num_stuff, pan_index, stuff_of)
    keep_inst = is_inst
    if relabel_to_stuff and num_inst:
        key = inst_id[is_inst] * num_sem + sem_index.long()[is_inst]
        counts = torch.bincount(
            key, minlength=num_inst * num_sem).view(num_inst, num_sem)
        top, major = counts.max(1)  # first (smallest) class on ties
        total = counts.sum(1)
        own = major == inst_labels.long() + num_stuff
        to_stuff = (~own) & (major < num_stuff) & (2 * top >= total) & (
            total > 0)
        relabel = is_inst & to_stuff[inst_id]
        stuff_of = torch.where(relabel, major[inst_id], stuff_of)
        keep_inst = is_inst & ~relabel

    if stuff_area_limit > 0:
        area = torch.bincount(
            stuff_of[stuff_of >= 0], minlength=num_stuff)  # (S,)
        small = area < stuff_area_limit
        stuff_of = torch.where((stuff_of >= 0) & small[stuff_of.clamp(min=0)],
                               torch.full_like(stuff_of, -1), stuff_of)

    out = torch.full_like(pan_index, num_classes)  # void
    out = torch.where(stuff_of >= 0, stuff_of + num_things, out)
    if num_inst:
        encoded = inst_labels.long()[inst_id] + (inst_id + 1) * INSTANCE_OFFSET
        out = torch.where(keep_inst, encoded, out)
    return out
