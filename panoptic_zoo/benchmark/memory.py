"""Peak memory of a phase, and cleaning up between models.

GPU: ``torch.cuda.max_memory_allocated`` over the phase (weights, optimizer
state and activations: everything the caching allocator handed out).
CPU: the increase of the process's peak resident set size over its size at
the start of the phase, after the C heap's free pages are given back to the
OS (glibc ``malloc_trim``) so that pages a previous model freed count again.
Linux resets the peak (``VmHWM``) when ``5`` is written to
``/proc/self/clear_refs``; where that is not possible the lifetime peak
(``resource.getrusage``) is used and the method says so.
"""
import ctypes
import ctypes.util
import gc
import resource
import sys
from typing import Optional

import torch

_STATUS = '/proc/self/status'


def _status_kib(key: str) -> Optional[int]:
    try:
        with open(_STATUS) as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _trim_heap() -> None:
    """Give the C heap's free pages back to the OS (glibc), so that memory
    freed by an earlier model is not reused without raising the RSS."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_cpu_peak() -> bool:
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def _rusage_peak_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == 'darwin' else peak * 1024


class PeakMemory:
    """Context manager measuring the peak memory of its body.

    Attributes:
        peak_bytes (int): After the body: the peak (GPU: allocated bytes;
            CPU: resident-set increase, at least 0).
        method (str): How it was measured.

    Args:
        device (str): ``'cpu'`` or ``'cuda'``.
    """

    def __init__(self, device: str) -> None:
        self.device = device
        self.peak_bytes = 0
        self.method = ''
        self._base = 0
        self._resettable = False

    def __enter__(self) -> 'PeakMemory':
        if self.device == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.method = 'torch.cuda.max_memory_allocated'
            return self
        gc.collect()
        _trim_heap()
        self._resettable = _reset_cpu_peak()
        rss = _status_kib('VmRSS')
        if self._resettable and rss is not None:
            self._base = rss * 1024
            self.method = ('peak RSS increase (VmHWM after reset - VmRSS '
                           'before)')
        else:
            self._base = _rusage_peak_bytes()
            self.method = ('lifetime peak RSS increase (ru_maxrss; '
                           'VmHWM reset unavailable)')
        return self

    def __exit__(self, *exc) -> None:
        if self.device == 'cuda':
            torch.cuda.synchronize()
            self.peak_bytes = int(torch.cuda.max_memory_allocated())
            return
        hwm = _status_kib('VmHWM') if self._resettable else None
        peak = hwm * 1024 if hwm is not None else _rusage_peak_bytes()
        self.peak_bytes = max(int(peak - self._base), 0)


def release_memory(device: str) -> None:
    """Collect garbage and give cached GPU memory back between models."""
    gc.collect()
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
