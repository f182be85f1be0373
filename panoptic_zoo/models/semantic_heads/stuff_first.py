"""The stuff-first logit layout of UPSNet's semantic head: pure functions.

UPSNet (official code) orders semantic channels ``[stuff (S) ; things
(T)]`` with no merged "things" channel, while mmdet's dataset labels put
things first: things in [0, T), stuff in [T, T + S), 255 void. Heads with
per-thing-class logits in this project use the stuff-first layout and
convert the GT with :func:`to_stuff_first`; fusion heads read the two
blocks through ``SemanticLogits.split`` (``panoptic_zoo.models.contracts``).
"""
import torch
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
