"""AUNet's fusion: the heuristic one plus category relations."""
from typing import Optional, Sequence, Tuple

import torch
from mmdet.utils import OptConfigType, OptMultiConfig
from mmengine.structures import InstanceData
from torch import Tensor

from panoptic_zoo.registry import MODELS
from .heuristic_fusion_head import HeuristicFusionHead


def relation_matrix(relations: Sequence[Sequence[str]],
                    thing_classes: Sequence[str]) -> Tensor:
    """The relation table as a (T, T) bool matrix.

    Args:
        relations (Sequence[Sequence[str]]): ``(small, large)`` class name
            pairs: a ``small`` instance may lie on a ``large`` one.
        thing_classes (Sequence[str]): The T thing class names, in label
            order (the dataset metainfo's ``thing_classes``).

    Returns:
        Tensor: (T, T) bool, ``[s, l]`` True when class s may lie on l.

    Raises:
        ValueError: naming a malformed pair or a name not in
            ``thing_classes``.
    """
    index = {name: i for i, name in enumerate(thing_classes)}
    table = torch.zeros(
        len(thing_classes), len(thing_classes), dtype=torch.bool)
    for pair in relations:
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError('AUNetFusionHead: each relation must be a '
                             f'(small, large) pair of names, got {pair!r}')
        for name in pair:
            if name not in index:
                shown = ', '.join(list(thing_classes)[:8])
                raise ValueError(
                    f'AUNetFusionHead: relation {tuple(pair)} names '
                    f'{name!r}, which is not a thing class of the dataset '
                    f'({len(thing_classes)} classes: {shown}'
                    f'{", ..." if len(thing_classes) > 8 else ""})')
        if pair[0] == pair[1]:
            raise ValueError('AUNetFusionHead: a class cannot lie on itself, '
                             f'got relation {tuple(pair)}')
        table[index[pair[0]], index[pair[1]]] = True
    return table


def lay_masks_with_relations(masks: Tensor, labels: Tensor, scores: Tensor,
                             relations: Tensor,
                             overlap_thr: float) -> Tuple[Tensor, Tensor]:
    """Heuristic instance layering (Panoptic FPN) with category relations.

    Instances are placed by decreasing score; one is dropped when more than
    ``overlap_thr`` of its area is already taken, else it fills its free
    pixels. With the relations (AUNet, Sec. 3.4): pixels taken by a larger
    instance of a class this one may lie on (``relations[own, theirs]``,
    e.g. a tie on a person) do not count as taken, and this instance is
    laid on top of them. Without any relation this is mmdet's
    ``HeuristicFusionHead._lay_masks``.

    Args:
        masks (Tensor): (N, H, W) bool masks of N instances, H × W pixels.
        labels (Tensor): (N,) int64 thing labels in [0, T).
        scores (Tensor): (N,) scores.
        relations (Tensor): (T, T) bool, see :func:`relation_matrix`.
        overlap_thr (float): Largest taken fraction of an instance's area
            for which it is kept.

    Returns:
        tuple[Tensor, Tensor]: ``id_map`` (H, W) int64, 0 for no instance
        and i for the i-th kept instance; its labels, (I,) int64 for the I
        kept instances (one may end up with no visible pixel).
    """
    masks = masks.bool()
    id_map = torch.zeros(
        masks.shape[-2:], dtype=torch.long, device=masks.device)
    # Label and full-mask area of the instance owning each pixel.
    label_map = torch.zeros_like(id_map)
    area_map = torch.zeros_like(id_map)
    relations = relations.to(masks.device)
    areas = masks.flatten(1).sum(1)  # (N,)
    kept = []
    for idx in torch.argsort(-scores).tolist():
        mask, area, label = masks[idx], areas[idx], labels[idx]
        if area == 0:
            continue
        taken = id_map > 0
        # A larger instance of a class this one lies on yields its pixels.
        yields = taken & relations[label][label_map] & (area_map > area)
        blocked = mask & taken & ~yields
        if blocked.sum() / (area + 1e-5) > overlap_thr:
            continue
        part = mask & ~blocked
        kept.append(label)
        id_map = torch.where(part, id_map.new_tensor(len(kept)), id_map)
        label_map = torch.where(part, label, label_map)
        area_map = torch.where(part, area, area_map)
    if kept:
        return id_map, torch.stack(kept)
    return id_map, labels.new_zeros((0, ))


@MODELS.register_module()
class AUNetFusionHead(HeuristicFusionHead):
    """Heuristic fusion with AUNet's category relations (Li et al., CVPR
    2019, Sec. 3.4): a small instance lying on a larger one of a related
    class (a *tie* on a *person*) is kept on top of it instead of being
    dropped as an overlap. Stuff and the rest are mmdet's
    ``HeuristicFusionHead`` (``test_cfg``: ``mask_overlap``,
    ``stuff_area_limit``).

    The relation table is config data: ``(small, large)`` pairs of thing
    class names, checked at build against ``thing_classes`` (the dataset's
    names in label order, which must number ``num_things_classes``). The
    paper gives the tie-person example only; the COCO configs' table and
    its source are in ``configs/aunet``.

    Args:
        num_things_classes (int): T.
        num_stuff_classes (int): Number of stuff classes.
        thing_classes (Sequence[str]): The T thing names, label order.
        relations (Sequence[Sequence[str]]): ``(small, large)`` pairs.
            Empty gives the plain heuristic.
        test_cfg (dict, optional): ``model.test_cfg.panoptic``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 *,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 thing_classes: Sequence[str],
                 relations: Sequence[Sequence[str]] = (),
                 test_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            num_things_classes=num_things_classes,
            num_stuff_classes=num_stuff_classes,
            test_cfg=test_cfg,
            init_cfg=init_cfg)
        if isinstance(thing_classes, str) or \
                len(thing_classes) != num_things_classes:
            raise ValueError(
                f'AUNetFusionHead: thing_classes must list the '
                f'num_things_classes={num_things_classes} thing names of '
                f'the dataset, got {thing_classes!r}')
        self.thing_classes = tuple(thing_classes)
        self.relation_pairs = tuple(tuple(p) for p in relations)
        # Not a parameter, not in the state_dict: it is config data.
        self.register_buffer(
            'relations',
            relation_matrix(relations, thing_classes),
            persistent=False)

    def _lay_masks(
            self,
            mask_results: InstanceData,
            overlap_thr: Optional[float] = 0.5) -> Tuple[Tensor, Tensor]:
        """(H, W) id map and kept labels; see
        :func:`lay_masks_with_relations`."""
        masks = mask_results.masks
        if len(mask_results) == 0:
            return (torch.zeros(
                masks.shape[-2:], dtype=torch.long,
                device=masks.device), mask_results.labels)
        return lay_masks_with_relations(masks, mask_results.labels,
                                        mask_results.scores, self.relations,
                                        overlap_thr)
