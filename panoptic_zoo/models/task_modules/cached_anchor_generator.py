"""mmdet's anchor generator, computing each layout's anchors once."""
from collections import OrderedDict
from typing import Hashable, List, Sequence, Tuple

import torch
from mmdet.models.task_modules.prior_generators import AnchorGenerator
from torch import Tensor

from panoptic_zoo.registry import TASK_UTILS


def _sizes_key(featmap_sizes: Sequence) -> Tuple:
    return tuple(tuple(int(s) for s in size) for size in featmap_sizes)


@TASK_UTILS.register_module()
class CachedAnchorGenerator(AnchorGenerator):
    """mmdet's ``AnchorGenerator`` whose grid anchors and valid flags are
    kept per feature-map layout.

    The anchors depend only on the feature-map sizes, dtype and device (the
    flags on the padded image shape), which repeat from step to step, but
    mmdet rebuilds them for every loss and every prediction: ~40 small
    kernels and ~5 ms of host time a Panoptic FPN training step on an H100.
    Here they are built once and the same tensors are handed out again.
    Callers get a new list each time; mmdet's heads only index the tensors
    (new tensors), never write into them.

    Args:
        cache_size (int): Layouts kept, least recently used dropped first
            (multi-scale training sees a few dozen image sizes).
        **kwargs: ``AnchorGenerator``'s arguments.
    """

    def __init__(self, *args, cache_size: int = 64, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if cache_size < 1:
            raise ValueError('CachedAnchorGenerator: cache_size must be >= 1,'
                             f' got {cache_size}')
        self.cache_size = cache_size
        self._cache: 'OrderedDict[Hashable, List[Tensor]]' = OrderedDict()

    def _cached(self, key: Hashable, build) -> List[Tensor]:
        if key in self._cache:
            self._cache.move_to_end(key)
        else:
            self._cache[key] = build()
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return list(self._cache[key])

    def grid_priors(self,
                    featmap_sizes: List[Tuple],
                    dtype: torch.dtype = torch.float32,
                    device='cuda') -> List[Tensor]:
        """See ``AnchorGenerator.grid_priors``; cached per layout."""
        key = ('priors', _sizes_key(featmap_sizes), dtype,
               torch.device(device))
        return self._cached(
            key, lambda: super(CachedAnchorGenerator, self).grid_priors(
                featmap_sizes, dtype=dtype, device=device))

    def valid_flags(self,
                    featmap_sizes: List[Tuple[int, int]],
                    pad_shape: Tuple,
                    device='cuda') -> List[Tensor]:
        """See ``AnchorGenerator.valid_flags``; cached per layout."""
        key = ('flags', _sizes_key(featmap_sizes),
               tuple(int(s) for s in pad_shape[:2]), torch.device(device))
        return self._cached(
            key, lambda: super(CachedAnchorGenerator, self).valid_flags(
                featmap_sizes, pad_shape, device=device))
