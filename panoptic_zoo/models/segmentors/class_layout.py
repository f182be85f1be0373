"""Check that every head of a segmentor agrees on the class layout.

A Mask R-CNN head built for 80 classes on a dataset with 4 gives no error in
mmdet, only a PQ of 0; we fail when the model is built instead, naming both
config keys that disagree.
"""
from typing import List, Tuple

from torch import nn


def _thing_counts(model: nn.Module) -> List[Tuple[str, int]]:
    """(config key, number of thing classes) for each head that has one."""
    found = []
    roi_head = getattr(model, 'roi_head', None)
    for name in ('bbox_head', 'mask_head'):
        head = getattr(roi_head, name, None)
        heads = head if isinstance(head, nn.ModuleList) else [head]
        for i, h in enumerate(heads):
            if h is None or getattr(h, 'class_agnostic', False):
                continue
            key = f'model.roi_head.{name}'
            key += f'[{i}]' if isinstance(head, nn.ModuleList) else ''
            found.append((f'{key}.num_classes', h.num_classes))
    for slot in ('semantic_head', 'panoptic_fusion_head'):
        head = getattr(model, slot, None)
        if hasattr(head, 'num_things_classes'):
            found.append((f'model.{slot}.num_things_classes',
                          head.num_things_classes))
    return found


def _stuff_counts(model: nn.Module) -> List[Tuple[str, int]]:
    found = []
    for slot in ('semantic_head', 'panoptic_fusion_head'):
        head = getattr(model, slot, None)
        if hasattr(head, 'num_stuff_classes'):
            found.append((f'model.{slot}.num_stuff_classes',
                          head.num_stuff_classes))
    return found


def _agree(counts: List[Tuple[str, int]], what: str) -> int:
    ref_key, ref = counts[0]
    for key, value in counts[1:]:
        if value != ref:
            raise ValueError(
                f'{key}={value} but {ref_key}={ref}: every head must use the '
                f'same number of {what} classes (the dataset metainfo\'s).')
    return ref


def check_class_layout(model: nn.Module) -> Tuple[int, int]:
    """Return (num_things, num_stuff) after checking all heads agree.

    The fusion head is the reference: it is the last consumer of both.

    Raises:
        ValueError: naming the two config keys whose numbers differ.
    """
    things = _thing_counts(model)
    stuff = _stuff_counts(model)
    # Put the fusion head first so messages compare against it.
    things.sort(key=lambda kv: 'panoptic_fusion_head' not in kv[0])
    stuff.sort(key=lambda kv: 'panoptic_fusion_head' not in kv[0])
    if not things or not stuff:
        raise ValueError('model.panoptic_fusion_head must define '
                         'num_things_classes and num_stuff_classes')
    return _agree(things, 'thing'), _agree(stuff, 'stuff')


def check_dataset_classes(model: nn.Module, metainfo: dict,
                          where: str) -> None:
    """Compare a model's class layout with a dataset's metainfo.

    Args:
        model (nn.Module): A segmentor with ``num_things_classes`` and
            ``num_stuff_classes``.
        metainfo (dict): Dataset metainfo with ``thing_classes`` and
            ``stuff_classes``.
        where (str): Config key of the dataset, used in the message.

    Raises:
        ValueError: naming the model key and the dataset key that disagree.
    """
    for kind, key in (('thing', 'num_things_classes'),
                      ('stuff', 'num_stuff_classes')):
        names = metainfo.get(f'{kind}_classes')
        if names is None:
            raise KeyError(f'{where}.metainfo has no {kind}_classes: a '
                           'panoptic dataset must list them')
        n_model = getattr(model, key)
        if n_model != len(names):
            shown = ', '.join(names[:6]) + (', ...' if len(names) > 6 else '')
            raise ValueError(
                f'model.panoptic_fusion_head.{key}={n_model} but {where} has '
                f'{len(names)} {kind} classes ({shown}): set the model\'s '
                'class numbers from the dataset metainfo')
