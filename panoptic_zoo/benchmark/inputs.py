"""Synthetic input batches, built and preprocessed once per model, so the
timed work is the model's step only."""
import re
from typing import Tuple

import numpy as np
import torch
from mmdet.testing import demo_mm_inputs
from torch import nn

_SHAPE = re.compile(r'^\s*(\d+)\s*x\s*(\d+)\s*x\s*(\d+)\s*$')


def parse_input(text: str, option: str = '--input') -> Tuple[int, int, int]:
    """``'BxHxW'`` → ``(B, H, W)``, all positive.

    Raises:
        ValueError: naming ``option`` and the bad value.
    """
    match = _SHAPE.match(str(text))
    shape = tuple(int(v) for v in match.groups()) if match else ()
    if not shape or min(shape) <= 0:
        raise ValueError(f'{option}: expected BxHxW with positive integers '
                         f'(batch x height x width, e.g. 2x800x1216), got '
                         f'{text!r}')
    return shape


def make_batch(model: nn.Module,
               batch: int,
               height: int,
               width: int,
               instances: int,
               *,
               training: bool,
               seed: int = 0) -> dict:
    """A preprocessed batch for ``model(**data, mode=...)``.

    Each of the ``batch`` images (random pixels, ``(3, height, width)``)
    carries ``instances`` random boxes and masks with thing labels, and a
    semantic map with labels in ``[0, num_things + num_stuff)``, mmdet's
    panoptic layout (things first). ``scale_factor`` is 1 so predictions
    are not rescaled.

    Args:
        model (nn.Module): A panoptic segmentor with ``num_things_classes``,
            ``num_stuff_classes`` and a ``data_preprocessor``.
        batch, height, width (int): Input size.
        instances (int): GT instances per image.
        training (bool): Preprocess for ``mode='loss'`` (else predict).
        seed (int): Seed of the random content.

    Returns:
        dict: ``inputs`` (B, 3, H', W') normalised and padded (H', W' the
        sizes rounded up to the preprocessor's divisor) and
        ``data_samples``.
    """
    things, stuff = model.num_things_classes, model.num_stuff_classes
    np.random.seed(seed)  # demo_mm_inputs draws semantic maps from it
    data = demo_mm_inputs(
        batch_size=batch,
        image_shapes=[(3, height, width)] * batch,
        num_items=[instances] * batch,
        num_classes=things + stuff,
        with_mask=True,
        with_semantic=True)
    for sample in data['data_samples']:
        sample.set_metainfo(dict(scale_factor=(1.0, 1.0)))
        gt = sample.gt_instances
        gt.labels = gt.labels % things  # instance labels are thing classes
        sem = sample.gt_sem_seg.sem_seg
        sample.gt_sem_seg.sem_seg = sem.clamp(max=things + stuff - 1)
    with torch.no_grad():  # also moves the batch to the model's device
        return model.data_preprocessor(data, training)
