"""Count torch calls, and those that make a GPU wait for the host to read
a value, on any device: a CPU test can then prove a hot path sync-free.

``torch.cuda.set_sync_debug_mode('error')`` catches syncs only on a GPU;
this counter looks at the calls themselves (through a
``TorchFunctionMode``), so the same hot path fails on CPU too. Calls made
inside a torch call are not seen: the counts are the calls our code makes,
a proxy for kernel launches.
"""
from collections import Counter
from typing import Any, Callable, Dict, Optional, Sequence

import torch
from torch.overrides import TorchFunctionMode

# Calls that read a device value on the host, or whose output size is data
# (the host must read it to allocate): each is a sync on a GPU.
SYNC_CALLS = frozenset({
    'item', 'tolist', '__bool__', '__int__', '__float__', '__index__',
    'nonzero', 'argwhere', 'unique', 'unique_consecutive', 'masked_select',
    'bincount', 'histc', 'repeat_interleave', 'cpu', 'numpy', 'where_1arg'
})


def _has_bool_index(index: Any) -> bool:
    """Whether an indexing key holds a bool tensor (output size is data)."""
    keys = index if isinstance(index, (tuple, list)) else (index, )
    return any(
        isinstance(k, torch.Tensor) and k.dtype == torch.bool for k in keys)


def _name(func: Callable, args: Sequence, kwargs: Dict) -> str:
    """The call's name; boolean-mask indexing and one-argument ``where``
    get names of their own, as they are the syncing forms."""
    name = getattr(func, '__name__', str(func))
    if name in ('__getitem__', '__setitem__') and len(args) > 1 and \
            _has_bool_index(args[1]):
        return f'{name}[bool]'
    if name == 'where' and len(args) + len(kwargs) == 1:
        return 'where_1arg'
    return name


class HostSyncCounter(TorchFunctionMode):
    """Counts every torch call made inside the ``with`` block.

    Attributes:
        calls (Counter): name -> number of calls, all of them.
        syncs (Counter): name -> number of syncing calls (``SYNC_CALLS``
            and indexing with a bool tensor, ``__getitem__[bool]`` /
            ``__setitem__[bool]``).

    Example:
        >>> with HostSyncCounter() as counter:
        ...     head.predict(instances, seg_preds)
        >>> assert sum(counter.syncs.values()) == 0, counter.syncs
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter = Counter()
        self.syncs: Counter = Counter()

    def __torch_function__(self,
                           func: Callable,
                           types: Sequence,
                           args: Sequence = (),
                           kwargs: Optional[Dict] = None) -> Any:
        kwargs = kwargs or {}
        name = _name(func, args, kwargs)
        self.calls[name] += 1
        if name in SYNC_CALLS or name.endswith('[bool]'):
            self.syncs[name] += 1
        return func(*args, **kwargs)

    @property
    def num_calls(self) -> int:
        """Total number of torch calls seen."""
        return sum(self.calls.values())

    @property
    def num_syncs(self) -> int:
        """Total number of syncing calls seen."""
        return sum(self.syncs.values())
