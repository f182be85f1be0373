"""Keep checkpoints loadable by a plain ``torch.load(weights_only=True)``.

MMEngine puts numpy arrays and ``HistoryBuffer`` objects (the logged loss
windows) into the checkpoint's message hub, which torch's safe unpickler
refuses unless an allow-list was installed first. Before a save we turn them
into tagged dicts of tensors and plain Python values; after a load we turn
the tags back, so the runner sees exactly what it saved.
"""
from collections import OrderedDict
from typing import Any

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

_ARRAY = '__numpy_array__'
_HISTORY = '__history_buffer__'


def _array_to_plain(array: np.ndarray) -> Any:
    if array.dtype.kind in 'biuf':  # tensors carry the dtype exactly
        return {_ARRAY: torch.from_numpy(np.ascontiguousarray(array).copy())}
    return {_ARRAY: array.tolist(), 'dtype': array.dtype.str}


def to_plain(value: Any) -> Any:
    """``value`` with numpy objects and HistoryBuffers replaced by tags."""
    if isinstance(value, HistoryBuffer):
        return {
            _HISTORY:
            dict(
                log_history=to_plain(value._log_history),
                count_history=to_plain(value._count_history),
                max_length=value.max_length)
        }
    if isinstance(value, np.ndarray):
        return _array_to_plain(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        # Subclasses (ConfigDict, ...) would need an allow-list entry.
        kind = OrderedDict if isinstance(value, OrderedDict) else dict
        return kind((k, to_plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        kind = tuple if isinstance(value, tuple) else list
        return kind(to_plain(v) for v in value)
    return value


def from_plain(value: Any) -> Any:
    """Inverse of :func:`to_plain`."""
    if isinstance(value, dict):
        if _HISTORY in value:
            fields = value[_HISTORY]
            return HistoryBuffer(
                from_plain(fields['log_history']),
                from_plain(fields['count_history']), fields['max_length'])
        if _ARRAY in value:
            data = value[_ARRAY]
            if isinstance(data, torch.Tensor):
                return data.numpy()
            return np.array(data, dtype=np.dtype(value['dtype']))
        return type(value)((k, from_plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)) and not hasattr(value, '_fields'):
        return type(value)(from_plain(v) for v in value)
    return value
