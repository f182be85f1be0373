"""Training step and inference timing, with the peak memory of each.

A training step is mmengine's ``BaseModel.train_step`` minus the data
preprocessing (done once, outside the timing): forward with the losses,
``parse_losses``, backward and the SGD update through an mmengine
``OptimWrapper``. Inference is ``model(..., mode='predict')``, the fusion
post-processing included. CUDA is synchronised before and after each timed
call; the reported time is the median of ``steps`` calls after ``warmup``.
"""
import contextlib
import functools
import statistics
import time
from typing import Callable, List, Optional, Sequence, Tuple

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from torch import nn

from .memory import PeakMemory

PRECISIONS = ('fp32', 'amp')


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence (mean of the middle two if even)."""
    if not len(values):
        raise ValueError('median of no values')
    return float(statistics.median(values))


def mmcv_supports_bf16(device: str) -> bool:
    """Whether mmcv's RoIAlign (in every zoo model) runs on bf16 tensors of
    ``device``: mmcv 2.1's CPU and CUDA kernels have fp32/fp16 only."""
    from mmcv.ops import roi_align
    x = torch.zeros(1, 1, 4, 4, dtype=torch.bfloat16, device=device)
    rois = torch.tensor([[0., 0., 0., 2., 2.]],
                        dtype=torch.bfloat16,
                        device=device)
    try:
        roi_align(x, rois, (2, 2), 1.0, 0, 'avg', True)
    except (RuntimeError, NotImplementedError):
        return False
    return True


@functools.lru_cache()
def amp_choice(device: str) -> Tuple[Optional[torch.dtype], str]:
    """AMP's dtype and why: bf16 autocast where the GPU and mmcv's ops
    support it, else fp16 (with loss scaling); None on a CPU (AMP is
    measured on CUDA only)."""
    if device != 'cuda':
        return None, 'AMP is measured on CUDA only'
    if not torch.cuda.is_bf16_supported():
        return torch.float16, 'fp16 autocast: the GPU has no bf16'
    if not mmcv_supports_bf16(device):
        return torch.float16, ('fp16 autocast: mmcv\'s CUDA RoIAlign has '
                               'no bf16 kernel')
    return torch.bfloat16, 'bf16 autocast'


def amp_dtype(device: str) -> Optional[torch.dtype]:
    return amp_choice(device)[0]


def dtype_name(dtype: torch.dtype) -> str:
    """``'bf16'``, ``'fp16'``, ``'fp32'``."""
    return {torch.bfloat16: 'bf16', torch.float16: 'fp16'}.get(dtype, 'fp32')


def precision_label(precision: str, device: str) -> str:
    """``'fp32'`` or ``'amp (bf16)'`` / ``'amp (fp16)'``."""
    dtype = amp_dtype(device) if precision == 'amp' else None
    return precision if dtype is None else f'amp ({dtype_name(dtype)})'


def _autocast(precision: str, device: str):
    if precision == 'fp32':
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=amp_dtype(device))


#: ``--clock``: wall time, or the process's CPU time (a CPU run on a
#: shared machine: with one torch thread it counts only this job's work).
CLOCKS = dict(wall=time.perf_counter, cpu=time.process_time)


def synchronizer(device: str) -> Callable[[], None]:
    """What waits for the device's queued work: ``cuda.synchronize`` on a
    GPU, nothing on a CPU (its ops are done when they return)."""
    return torch.cuda.synchronize if device == 'cuda' else (lambda: None)


def time_calls(fn: Callable[[], object],
               steps: int,
               warmup: int,
               device: str,
               clock: str = 'wall') -> List[float]:
    """Seconds of each of ``steps`` calls of ``fn`` after ``warmup`` calls,
    the GPU synchronised around each, on a :data:`CLOCKS` clock."""
    sync = synchronizer(device)
    now = CLOCKS[clock]
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        sync()
        start = now()
        fn()
        sync()
        times.append(now() - start)
    return times


def optim_wrapper(model: nn.Module, precision: str,
                  device: str) -> OptimWrapper:
    """SGD in an mmengine wrapper; fp16 AMP gets ``AmpOptimWrapper``
    (autocast + dynamic loss scaling), bf16 a plain wrapper (autocast is
    added around the forward, bf16 needs no loss scaling)."""
    optimizer = torch.optim.SGD(
        model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)
    if precision == 'amp' and amp_dtype(device) == torch.float16:
        return AmpOptimWrapper(
            optimizer=optimizer, loss_scale='dynamic', dtype='float16')
    return OptimWrapper(optimizer=optimizer)


def train_step(model: nn.Module, data: dict, precision: str,
               device: str) -> Callable[[], torch.Tensor]:
    """One training step on ``data`` as a callable: forward with the
    losses, ``parse_losses``, backward and the SGD update (mmengine's
    ``train_step`` minus the data preprocessing); it returns the detached
    total loss. fp16 autocasts inside ``AmpOptimWrapper``; bf16 gets
    autocast around the forward here."""
    wrapper = optim_wrapper(model, precision, device)
    bf16 = precision == 'amp' and not isinstance(wrapper, AmpOptimWrapper)

    def step() -> torch.Tensor:
        with wrapper.optim_context(model), \
                _autocast(precision if bf16 else 'fp32', device):
            losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        wrapper.update_params(loss)
        return loss.detach()

    return step


def predict_call(model: nn.Module, data: dict, precision: str,
                 device: str) -> Callable[[], None]:
    """``model(**data, mode='predict')`` without gradients, autocast for
    AMP, as a callable (the model must be in eval mode)."""

    def predict() -> None:
        with torch.no_grad(), _autocast(precision, device):
            model(**data, mode='predict')

    return predict


def measure_train(model: nn.Module,
                  data: dict,
                  *,
                  steps: int,
                  warmup: int,
                  precision: str,
                  device: str,
                  clock: str = 'wall') -> dict:
    """Median seconds per training step and its peak memory.

    Args:
        model (nn.Module): In train mode.
        data (dict): A preprocessed batch (``inputs``, ``data_samples``).
        steps, warmup (int): Timed and untimed steps.
        precision (str): ``'fp32'`` or ``'amp'``.
        device (str): ``'cpu'`` or ``'cuda'``.
        clock (str): A key of :data:`CLOCKS`.

    Returns:
        dict: ``s_per_iter``, ``times`` (s), ``peak_memory_bytes``,
        ``memory_method`` and ``loss`` (the last step's total loss).
    """
    model.train()
    step = train_step(model, data, precision, device)
    last = {}

    def timed_step():
        last['loss'] = step()

    with PeakMemory(device) as memory:
        times = time_calls(timed_step, steps, warmup, device, clock)
    del step  # and its optimizer state
    return dict(
        s_per_iter=median(times),
        times=times,
        peak_memory_bytes=memory.peak_bytes,
        memory_method=memory.method,
        loss=float(last['loss']))


def measure_inference(model: nn.Module,
                      single: dict,
                      batched: dict,
                      *,
                      steps: int,
                      warmup: int,
                      precision: str,
                      device: str,
                      clock: str = 'wall') -> dict:
    """Latency at batch 1 and throughput at a larger batch, in eval mode
    without gradients (other arguments as :func:`measure_train`).

    Args:
        single (dict): A preprocessed batch of 1 image.
        batched (dict): A preprocessed batch of B images.

    Returns:
        dict: ``latency_s`` (median seconds per image at batch 1),
        ``throughput`` (images/s at batch B: B / median batch time),
        ``batch`` (B), ``peak_memory_bytes`` (over both), ``memory_method``.
    """
    model.eval()
    batch = len(batched['data_samples'])
    with PeakMemory(device) as memory:
        latency = time_calls(
            predict_call(model, single, precision, device), steps, warmup,
            device, clock)
        batch_times = time_calls(
            predict_call(model, batched, precision, device), steps, warmup,
            device, clock)
    model.train()
    return dict(
        latency_s=median(latency),
        throughput=batch / median(batch_times),
        batch=batch,
        latency_times=latency,
        batch_times=batch_times,
        peak_memory_bytes=memory.peak_bytes,
        memory_method=memory.method)
