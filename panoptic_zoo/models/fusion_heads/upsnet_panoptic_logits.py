"""UPSNet panoptic logits Z and their training targets, as pure functions.

Xiong et al., "UPSNet: A Unified Panoptic Segmentation Network" (CVPR 2019),
Sec. 3.3, with the official code's choices (uber-research/UPSNet
``operators/modules/unary_logits.py``, ``mask_matching.py``,
``models/resnet_upsnet.py``) where the paper is vague.

Shape letters used throughout:

- S: number of stuff classes; T: number of thing classes.
- N: number of instances (GT boxes in training, kept detections at test).
- H, W: height and width of the map Z is built on (1/4 of the padded input
  in training, the input image at test).
- m: side of the square mask-head logits (28 for an FCN mask head).

Channel layout of Z (DESIGN.md §3): ``[stuff (S) ; instances (N) ;
unknown (1, optional)]``. Instance i's channel is ``X_mask_i + Y_mask_i``,
both zero outside its box, so a pixel outside every box still sees N
channels equal to 0, exactly as in the official code.
"""
from typing import Optional

import torch
from torch import Tensor

IGNORE_INDEX = 255


def box_interp_matrix(starts: Tensor, sizes: Tensor, length: int,
                      m: int) -> Tensor:
    """Bilinear resize of m samples to ``sizes`` samples placed at ``starts``
    along an axis of ``length``, as one matrix per instance.

    Row r of instance n holds the weights ``F.interpolate(mode='bilinear',
    align_corners=False)`` gives to the m source samples for output position
    ``r - starts[n]``; rows outside ``[starts[n], starts[n] + sizes[n])``
    are zero. Only the visible part of a box is ever materialised, so boxes
    partly or fully outside the image cost nothing extra.

    Args:
        starts (Tensor): (N,) integer-valued first position of each box.
        sizes (Tensor): (N,) integer-valued box extent (≥ 1).
        length (int): Length L of the output axis.
        m (int): Number of source samples.

    Returns:
        Tensor: (N, L, m) interpolation weights (dtype float32).
    """
    pos = torch.arange(length, device=starts.device, dtype=torch.float32)
    starts = starts.float()[:, None]
    sizes = sizes.float()[:, None]
    # PyTorch's source coordinate for align_corners=False, clamped at 0.
    scale = m / sizes
    src = (scale * (pos[None] - starts + 0.5) - 0.5).clamp(min=0)  # (N, L)
    lo = src.floor().clamp(max=m - 1)
    lam = src - lo
    lo = lo.long()
    hi = (lo + 1).clamp(max=m - 1)
    inside = ((pos[None] >= starts) & (pos[None] < starts + sizes)).float()
    eye = torch.eye(m, device=starts.device)
    weights = eye[lo] * (1 - lam)[..., None] + eye[hi] * lam[..., None]
    return weights * inside[..., None]  # (N, L, m)


def paste_mask_logits(mask_logits: Tensor, boxes: Tensor, height: int,
                      width: int) -> Tensor:
    """Y_mask: each m×m mask logit resized bilinearly into its box, 0
    outside (the official ``MaskTerm``).

    The box is truncated to integers and spans ``floor(x1) ..
    floor(x2)`` inclusive (size ≥ 1), as in the official code; there is no
    1-pixel padding as in Mask R-CNN's paste. (The official code truncates
    with ``.long()``; we floor, which differs only for negative
    coordinates.)

    Args:
        mask_logits (Tensor): (N, m, m) mask logits of each instance's class.
        boxes (Tensor): (N, 4) boxes (x1, y1, x2, y2) in map pixels.
        height (int): H of the output map.
        width (int): W of the output map.

    Returns:
        Tensor: (N, H, W) pasted logits, differentiable w.r.t. mask_logits.
    """
    n, m = mask_logits.shape[0], mask_logits.shape[-1]
    if n == 0:
        return mask_logits.new_zeros((0, height, width))
    x0, y0 = boxes[:, 0].floor(), boxes[:, 1].floor()
    w = (boxes[:, 2].floor() - x0 + 1).clamp(min=1)
    h = (boxes[:, 3].floor() - y0 + 1).clamp(min=1)
    rows = box_interp_matrix(y0, h, height, m).to(mask_logits.dtype)
    cols = box_interp_matrix(x0, w, width, m).to(mask_logits.dtype)
    # (N, H, m) @ (N, m, m) @ (N, m, W) -> (N, H, W)
    return rows @ mask_logits @ cols.transpose(1, 2)


def box_masks(boxes: Tensor, height: int, width: int) -> Tensor:
    """Pixels where X_mask_i is read: rows ``int(y1) .. round(y2)``
    inclusive, columns likewise (the official ``SegTerm`` rounding, which
    differs from :func:`paste_mask_logits`'s by design of the original).

    Args:
        boxes (Tensor): (N, 4) boxes (x1, y1, x2, y2) in map pixels.
        height (int): H of the map.
        width (int): W of the map.

    Returns:
        Tensor: (N, H, W) bool.
    """
    ys = torch.arange(height, device=boxes.device)
    xs = torch.arange(width, device=boxes.device)
    y_in = (ys[None] >= boxes[:, 1:2].floor()) & (
        ys[None] < boxes[:, 3:4].round() + 1)  # (N, H)
    x_in = (xs[None] >= boxes[:, 0:1].floor()) & (
        xs[None] < boxes[:, 2:3].round() + 1)  # (N, W)
    return y_in[:, :, None] & x_in[:, None, :]


def thing_logits_in_boxes(thing_logits: Tensor, boxes: Tensor,
                          labels: Tensor) -> Tensor:
    """X_mask: each instance's class channel of the semantic logits inside
    its box, 0 outside.

    Args:
        thing_logits (Tensor): (T, H, W) per-thing-class semantic logits.
        boxes (Tensor): (N, 4) boxes in map pixels.
        labels (Tensor): (N,) thing class of each instance in [0, T).

    Returns:
        Tensor: (N, H, W).
    """
    height, width = thing_logits.shape[-2:]
    inside = box_masks(boxes, height, width)
    zero = thing_logits.new_zeros(())
    return torch.where(inside, thing_logits[labels], zero)


def unknown_logits(thing_logits: Tensor,
                   inst_sem_logits: Tensor,
                   empty_value: float = 0.) -> Tensor:
    """Z_unknown = max_c X_thing_c − max_i X_mask_i (official
    ``void_logits``; only the semantic part of the instance logits).

    Args:
        thing_logits (Tensor): (T, H, W).
        inst_sem_logits (Tensor): (N, H, W) X_mask of every instance.
        empty_value (float): Value of ``max_i X_mask_i`` when N = 0. 0 is
            what a pixel outside every box gets when N > 0, and what the
            official code ends up with (a dummy all-zero box).

    Returns:
        Tensor: (H, W).
    """
    if inst_sem_logits.shape[0] == 0:
        return thing_logits.max(0)[0] - empty_value
    return thing_logits.max(0)[0] - inst_sem_logits.max(0)[0]


def panoptic_logits(stuff_logits: Tensor,
                    thing_logits: Tensor,
                    boxes: Tensor,
                    labels: Tensor,
                    mask_logits: Tensor,
                    *,
                    with_unknown: bool = True,
                    empty_value: float = 0.) -> Tensor:
    """Dense Z = [X_stuff ; X_mask_i + Y_mask_i ; Z_unknown].

    Used for the training loss (at 1/4 resolution); test time uses
    :func:`panoptic_argmax`, which never holds all N instance channels.

    Args:
        stuff_logits (Tensor): (S, H, W).
        thing_logits (Tensor): (T, H, W).
        boxes (Tensor): (N, 4) boxes in map pixels.
        labels (Tensor): (N,) thing classes in [0, T).
        mask_logits (Tensor): (N, m, m) mask logits of each instance's class.
        with_unknown (bool): Append the unknown channel.
        empty_value (float): See :func:`unknown_logits`.

    Returns:
        Tensor: (S + N + U, H, W), U = 1 if ``with_unknown`` else 0.
    """
    height, width = stuff_logits.shape[-2:]
    inst_sem = thing_logits_in_boxes(thing_logits, boxes, labels)
    inst = inst_sem + paste_mask_logits(mask_logits, boxes, height, width)
    parts = [stuff_logits, inst]
    if with_unknown:
        parts.append(unknown_logits(thing_logits, inst_sem, empty_value)[None])
    return torch.cat(parts, dim=0)


def panoptic_argmax(stuff_logits: Tensor,
                    thing_logits: Tensor,
                    boxes: Tensor,
                    labels: Tensor,
                    mask_logits: Tensor,
                    *,
                    with_unknown: bool = True,
                    empty_value: float = 0.,
                    chunk_size: int = 32) -> Tensor:
    """``argmax`` over the channels of :func:`panoptic_logits`, computed
    with at most ``chunk_size`` instance channels in memory.

    Memory is O((S + T + chunk_size) · H · W) whatever N is: a running
    maximum is kept over the stuff block, then over chunks of instances,
    then the unknown channel. Ties go to the lower channel index, as with
    ``torch.argmax`` on the dense Z, so the result is identical.

    Args:
        stuff_logits (Tensor): (S, H, W).
        thing_logits (Tensor): (T, H, W).
        boxes (Tensor): (N, 4) boxes in map pixels.
        labels (Tensor): (N,) thing classes in [0, T).
        mask_logits (Tensor): (N, m, m).
        with_unknown (bool): Include the unknown channel (index S + N).
        empty_value (float): See :func:`unknown_logits`.
        chunk_size (int): Instances materialised at a time.

    Returns:
        Tensor: (H, W) long channel index in [0, S + N + U).
    """
    num_stuff = stuff_logits.shape[0]
    height, width = stuff_logits.shape[-2:]
    best, index = stuff_logits.max(0)  # (H, W) each
    sem_max: Optional[Tensor] = None
    for start in range(0, boxes.shape[0], chunk_size):
        sl = slice(start, start + chunk_size)
        inst_sem = thing_logits_in_boxes(thing_logits, boxes[sl], labels[sl])
        inst = inst_sem + paste_mask_logits(mask_logits[sl], boxes[sl], height,
                                            width)  # (c, H, W)
        value, arg = inst.max(0)
        better = value > best
        best = torch.where(better, value, best)
        index = torch.where(better, arg + num_stuff + start, index)
        chunk_max = inst_sem.max(0)[0]
        sem_max = chunk_max if sem_max is None else torch.maximum(
            sem_max, chunk_max)
    if with_unknown:
        if sem_max is None:
            unknown = thing_logits.max(0)[0] - empty_value
        else:
            unknown = thing_logits.max(0)[0] - sem_max
        index = torch.where(unknown > best,
                            index.new_full((), num_stuff + boxes.shape[0]),
                            index)
    return index


def panoptic_targets(sem_seg: Tensor,
                     inst_masks: Tensor,
                     *,
                     num_things: int,
                     num_stuff: int,
                     with_unknown: bool = True) -> Tensor:
    """Target channel of Z per pixel (the official ``MaskMatching``).

    Stuff pixels get their stuff channel, void stays ``IGNORE_INDEX``, kept
    instance i writes S + i (a later mask overwrites an earlier one), and
    every other thing pixel (dropped or crowd instance, or no mask) gets
    the unknown channel S + K, or ``IGNORE_INDEX`` without it.

    Args:
        sem_seg (Tensor): (H, W) dataset labels: things in [0, T), stuff in
            [T, T + S), ``IGNORE_INDEX`` void.
        inst_masks (Tensor): (K, H, W) bool masks of the kept instances, K
            the number kept.
        num_things (int): T.
        num_stuff (int): S.
        with_unknown (bool): Label unmatched thing pixels as unknown.

    Returns:
        Tensor: (H, W) long in [0, S + K + U) or ``IGNORE_INDEX``.
    """
    sem_seg = sem_seg.long()
    num_kept = inst_masks.shape[0]
    target = torch.full_like(sem_seg, IGNORE_INDEX)
    is_stuff = (sem_seg >= num_things) & (sem_seg < num_things + num_stuff)
    target = torch.where(is_stuff, sem_seg - num_things, target)
    if with_unknown:
        target = torch.where(sem_seg < num_things,
                             target.new_full((), num_stuff + num_kept), target)
    if num_kept:
        # 1-based index of the last mask covering each pixel, 0 if none.
        order = torch.arange(1, num_kept + 1, device=sem_seg.device)
        last = (inst_masks.bool() * order[:, None, None]).max(0)[0]
        target = torch.where(last > 0, last - 1 + num_stuff, target)
    return target
