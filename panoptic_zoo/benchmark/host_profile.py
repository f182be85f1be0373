"""Where the host's time goes: cProfile over warmed-up training steps and
predictions of one config.

When the GPU waits on the host (a step's kernels busy it a third of the
time), torch.profiler's counts (:mod:`.trace`) say *how often* the host
makes it wait; cProfile says *which Python code* holds the host, e.g. a
``copy.deepcopy`` of the ground truth or a per-class NMS loop. Time spent
waiting for the GPU shows up in the call that waits (``.item()``, a
pageable copy, ``nonzero``).
"""
import cProfile
import io
import pstats
import time
from typing import Callable, Dict

import torch

from . import speed
from .build import build_model
from .inputs import make_batch
from .zoo import ZooEntry, config_stem


def profile_host(fn: Callable[[], object], calls: int, device: str,
                 top: int = 40) -> Dict[str, object]:
    """Seconds per call of ``fn`` (already warmed up; cProfile's overhead
    included, so not a timing to compare) and cProfile's tables of its
    functions, by cumulative and by own time."""
    sync = speed.synchronizer(device)
    profiler = cProfile.Profile()
    sync()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(calls):
        fn()
    sync()
    profiler.disable()
    seconds = (time.perf_counter() - start) / calls
    tables = {}
    for order in ('cumulative', 'tottime'):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(top)
        tables[order] = text.getvalue()
    return dict(s_per_call=seconds, calls=calls, **tables)


def profile_config(config: str, device: str, shape: tuple, instances: int,
                   precision: str, calls: int, warmup: int,
                   top: int = 40) -> Dict[str, Dict[str, object]]:
    """``profile_host`` over a training step and a prediction (batch of
    ``shape``) of ``config``'s model, randomly initialised."""
    model = build_model(ZooEntry(config_stem(config), config), device)
    batch, height, width = shape
    results = {}
    train = make_batch(model, batch, height, width, instances, training=True)
    step = speed.train_step(model, train, precision, device)
    for _ in range(warmup):
        step()
    results['train'] = profile_host(step, calls, device, top)
    model.eval()
    data = make_batch(model, batch, height, width, instances, training=False)
    predict = speed.predict_call(model, data, precision, device)
    for _ in range(warmup):
        predict()
    results['predict'] = profile_host(predict, calls, device, top)
    return results
