"""The stuff-first logit layout of UPSNet's semantic head: pure functions,
and the mixin that gives a head with that layout its fusion interface.

UPSNet (official code) orders semantic channels ``[stuff (S) ; things
(T)]`` with no merged "things" channel, while mmdet's dataset labels put
things first: things in [0, T), stuff in [T, T + S), 255 void. Heads with
per-thing-class logits in this project use the stuff-first layout and
convert the GT with :func:`to_stuff_first`; fusion heads read the two
blocks through :func:`split_stuff_first` (exposed by such heads as
``split_logits``).
"""
from typing import Dict, Tuple

import torch
from mmdet.structures import SampleList
from torch import Tensor

IGNORE_INDEX = 255


def to_stuff_first(sem_seg: Tensor, num_things: int, num_stuff: int) -> Tensor:
    """Map dataset labels to stuff-first channels.

    Args:
        sem_seg (Tensor): (..., H, W) labels: things [0, T), stuff
            [T, T + S), anything else void.
        num_things (int): T.
        num_stuff (int): S.

    Returns:
        Tensor: (..., H, W) long: stuff s → s, thing t → S + t, void → 255.
    """
    sem_seg = sem_seg.long()
    out = torch.full_like(sem_seg, IGNORE_INDEX)
    is_thing = (sem_seg >= 0) & (sem_seg < num_things)
    is_stuff = (sem_seg >= num_things) & (sem_seg < num_things + num_stuff)
    out = torch.where(is_thing, sem_seg + num_stuff, out)
    return torch.where(is_stuff, sem_seg - num_things, out)


def split_stuff_first(logits: Tensor, num_stuff: int,
                      num_things: int) -> Tuple[Tensor, Tensor]:
    """Views of the stuff and thing blocks of stuff-first logits.

    Args:
        logits (Tensor): (..., S + T, H, W).
        num_stuff (int): S.
        num_things (int): T.

    Returns:
        tuple[Tensor, Tensor]: (..., S, H, W) and (..., T, H, W).
    """
    if logits.shape[-3] != num_stuff + num_things:
        raise ValueError(f'logits have {logits.shape[-3]} channels, expected '
                         f'{num_stuff} stuff + {num_things} things')
    stuff = logits.narrow(-3, 0, num_stuff)
    return stuff, logits.narrow(-3, num_stuff, num_things)


class StuffFirstLogitsMixin:
    """``split_logits`` and ``loss`` of a semantic head whose ``forward``
    gives stuff-first per-class logits (``seg_preds`` (B, S + T, h, w))
    and whose ``loss_by_feat(outs, batch_data_samples)`` computes its
    losses from that output: what logit-reading fusion heads use
    (``segmentors/logit_fusion.py``). Put it before the head's base
    class."""

    def split_logits(self, seg_preds: Tensor) -> Tuple[Tensor, Tensor]:
        """Stuff (..., S, H, W) and per-thing-class (..., T, H, W) views of
        ``seg_preds`` (..., S + T, H, W)."""
        return split_stuff_first(seg_preds, self.num_stuff_classes,
                                 self.num_things_classes)

    def loss(self, x: Tuple[Tensor, ...],
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """The losses of :meth:`loss_by_feat` for neck features ``x``."""
        return self.loss_by_feat(self(x), batch_data_samples)
