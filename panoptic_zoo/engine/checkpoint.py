"""Let ``torch.load(weights_only=True)`` read MMEngine checkpoints.

torch >= 2.6 loads with ``weights_only=True`` by default, and a checkpoint
that MMEngine 0.10 saved fails with ``UnpicklingError``: its message hub
holds ``HistoryBuffer`` objects (numpy arrays, numpy scalars, and bound
statistics methods pickled as ``getattr(HistoryBuffer, 'mean')``). We
allow-list exactly those types instead of turning ``weights_only`` off, and
replace ``getattr`` by a version that only resolves HistoryBuffer's
statistics methods, so a checkpoint cannot reach any other attribute.
"""
import pickle

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from numpy.core import multiarray


# HistoryBuffer's built-in statistics; custom ones are registered on the class.
_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj, name: str):
    """``getattr`` restricted to what HistoryBuffer pickles."""
    if obj is HistoryBuffer and (name in _STATISTICS or
                                 name in HistoryBuffer._statistics_methods):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only '
        'HistoryBuffer statistics methods are allowed')


def mmengine_checkpoint_globals() -> list:
    """The globals an MMEngine checkpoint references, beyond torch's own."""
    return [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
        (_history_buffer_getattr, 'builtins.getattr'),
        # numpy >= 1.25 pickles a dtype through its class (np.dtypes.*).
        *{type(np.dtype(t)) for t in (np.float64, np.float32, np.int64,
                                      np.int32, np.bool_)},
    ]


def allow_mmengine_checkpoints() -> None:
    """Register the allow-list with torch (idempotent)."""
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())
