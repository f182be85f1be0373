"""Where a step's time goes: torch.profiler counts of what makes the GPU
wait on the host.

A fast model keeps the GPU busy: few kernel launches, no host-device
synchronisations (``.item()``, ``nonzero``, boolean indexing, printing a
tensor), no pageable host→device copies. :func:`profile_calls` runs a
callable under ``torch.profiler`` and reduces the trace to those counts
per call, plus the GPU's busy time (sum of kernel and copy
times) against the wall time: their ratio is the share of the step the GPU
actually works.
"""
import time
from typing import Callable, Dict, List

from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

from .speed import synchronizer

#: Host-side events counted, by name: (report key, event names).
HOST_EVENTS = (
    ('kernel_launches', ('cudaLaunchKernel', 'cudaLaunchKernelExC',
                         'cuLaunchKernel', 'cuLaunchKernelEx')),
    ('stream_syncs', ('cudaStreamSynchronize', 'cudaDeviceSynchronize',
                      'cudaEventSynchronize')),
    ('memcpy_calls', ('cudaMemcpyAsync', 'cudaMemcpy')),
    ('item_calls', ('aten::_local_scalar_dense', )),
    ('nonzero_calls', ('aten::nonzero', )),
    ('randperm_calls', ('aten::randperm', )),  # on any device
)


def profile_calls(fn: Callable[[], object], calls: int,
                  device: str) -> Dict[str, float]:
    """Run ``calls`` calls of ``fn`` (already warmed up) under
    torch.profiler and return their per-call counts and times.

    Returns:
        dict: ``wall_ms``; the :data:`HOST_EVENTS` counts; with CUDA,
        ``gpu_busy_ms`` (kernels and copies), ``gpu_busy_share`` (busy /
        wall), ``pageable_h2d`` (host→device copies from pageable memory,
        which are synchronous for the host) and ``layout_conversions``
        (cuDNN's NCHW↔NHWC transpose kernels).
    """
    activities = [ProfilerActivity.CPU]
    if device == 'cuda':
        activities.append(ProfilerActivity.CUDA)
    sync = synchronizer(device)
    sync()
    with profile(activities=activities) as prof:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        sync()
        wall_s = time.perf_counter() - start
    return _summarize(prof.events(), wall_s, calls)


def _summarize(events: List, wall_s: float, calls: int) -> Dict[str, float]:
    counts = {name: 0 for name, _ in HOST_EVENTS}
    lookup = {event: key for key, names in HOST_EVENTS for event in names}
    for event in events:
        parent = event.cpu_parent
        # An op re-dispatching to itself (randperm → randperm.out) is one.
        nested = parent is not None and parent.name == event.name
        if (event.device_type == DeviceType.CPU and event.name in lookup
                and not nested):
            counts[lookup[event.name]] += 1
    out = {'wall_ms': 1e3 * wall_s / calls}
    out.update({k: v / calls for k, v in counts.items()})
    device = [e for e in events if e.device_type == DeviceType.CUDA]
    if device:
        busy_us = sum(e.time_range.elapsed_us() for e in device)
        out['gpu_busy_ms'] = busy_us / 1e3 / calls
        out['gpu_busy_share'] = out['gpu_busy_ms'] / out['wall_ms']
        out['pageable_h2d'] = sum('HtoD' in e.name and 'Pageable' in e.name
                                  for e in device) / calls
        out['layout_conversions'] = sum(
            'nchwToNhwc' in e.name or 'nhwcToNchw' in e.name
            for e in device) / calls
    return out
