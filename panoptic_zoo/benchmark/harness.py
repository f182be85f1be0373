"""Run a :class:`Plan`: speed and size of every model, then accuracy, then
the reports. One line of progress per model and phase."""
import os
import os.path as osp
import time
import traceback
from typing import Callable, Optional

import torch
from mmengine.logging import MMLogger
from torch import nn

from . import accuracy as acc
from .build import build_model
from .complexity import (FLOP_COUNTER, count_params, forward_flops, mfu,
                         peak_flops, predict_flops)
from .environment import command_line, environment, now
from .inputs import make_batch
from .memory import PeakMemory, release_memory
from .plan import Plan
from .plots import write_plots
from .report import add_ratios, markdown, write_json
from .speed import (amp_choice, amp_dtype, dtype_name, measure_inference,
                    measure_train, precision_label)
from .zoo import ZooEntry
from .sync_counter import HostSyncCounter


class Progress:
    """Prints ``[benchmark i/n name] phase: message (elapsed)``."""

    def __init__(self, total: int) -> None:
        self.total, self.index, self.name = total, 0, ''
        self._start = time.perf_counter()

    def model(self, index: int, name: str) -> None:
        self.index, self.name = index, name

    def __call__(self, phase: str, message: str) -> None:
        elapsed = time.perf_counter() - self._start
        print(
            f'[benchmark {self.index}/{self.total} {self.name}] {phase}: '
            f'{message} ({elapsed:.0f} s)',
            flush=True)


def _peak(plan: Plan, precision: str) -> tuple:
    if plan.device != 'cuda':
        return None, f'no peak FLOPS known for device {plan.device!r}'
    key = 'fp32' if precision == 'fp32' else dtype_name(amp_dtype(plan.device))
    return peak_flops(
        torch.cuda.get_device_name(),
        key,
        tf32=torch.backends.cudnn.allow_tf32)


def measure_speed(entry: ZooEntry, plan: Plan,
                  progress: Callable[[str, str], None]) -> dict:
    """Params, forward FLOPs, inference and training per precision."""
    model = build_model(entry, plan.device, plan.cfg_options, plan.seed)
    size = (plan.height, plan.width, plan.instances)
    train_data = make_batch(
        model, plan.batch, *size, training=True, seed=plan.seed)
    single = make_batch(model, 1, *size, training=False, seed=plan.seed)
    batched = make_batch(
        model, plan.infer_batch, *size, training=False, seed=plan.seed)
    out = dict(
        params=count_params(model),
        flops_per_image=predict_flops(model, single),
        forward_flops_per_image=forward_flops(model, single),
        speed={})
    progress(
        'size', f'{out["params"] / 1e6:.1f} M params, '
        f'{out["flops_per_image"] / 1e9:.1f} GFLOPs/img (predict), '
        f'{out["forward_flops_per_image"] / 1e9:.1f} (_forward)')
    timing = dict(
        steps=plan.steps,
        warmup=plan.warmup,
        device=plan.device,
        clock=plan.clock)
    for precision in plan.precisions:
        infer = measure_inference(
            model, single, batched, precision=precision, **timing)
        out['speed'][precision] = dict(inference=infer)
        progress(
            f'inference {precision}',
            f'{infer["latency_s"] * 1e3:.1f} ms/img (batch 1), '
            f'{infer["throughput"]:.2f} img/s (batch {infer["batch"]})')
    for precision in plan.precisions:
        train = measure_train(model, train_data, precision=precision, **timing)
        speed = out['speed'][precision]
        speed['train'] = train
        peak, note = _peak(plan, precision)
        flops = out['flops_per_image']
        speed['mfu'] = dict(
            train=mfu(flops, plan.batch, train['s_per_iter'], peak, 3),
            inference=mfu(flops, 1, speed['inference']['latency_s'], peak),
            peak_flops=peak,
            note=note)
        progress(
            f'train {precision}', f'{train["s_per_iter"]:.3f} s/iter, peak '
            f'{train["peak_memory_bytes"] / 1024**2:.0f} MiB, loss '
            f'{train["loss"]:.3f}')
    out['host_syncs'] = count_host_syncs(model, train_data, single)
    progress(
        'host syncs', f'{out["host_syncs"]["train_step"]} per training '
        f'step, {out["host_syncs"]["predict"]} per prediction (batch 1)')
    del model, train_data, single, batched
    return out


def count_host_syncs(model: nn.Module, train_data: dict,
                     single: dict) -> dict:
    """Calls that make a GPU wait for the host (``.item()``, ``nonzero``,
    boolean indexing, ...) in one fp32 training forward + backward and in
    one prediction: the host-bound share of a step, counted the same way
    on any device (``HostSyncCounter``)."""
    model.train()
    with HostSyncCounter() as counter:
        loss, _ = model.parse_losses(model(**train_data, mode='loss'))
        loss.backward()
    train = sum(counter.syncs.values())
    model.zero_grad(set_to_none=True)
    model.eval()
    with torch.no_grad(), HostSyncCounter() as counter:
        model(**single, mode='predict')
    model.train()
    return dict(train_step=train, predict=sum(counter.syncs.values()))


def measure_accuracy(entry: ZooEntry, plan: Plan, data_root: Optional[str],
                     progress: Callable[[str, str], None]) -> tuple:
    """``(accuracy dict or None, note)`` of one model."""
    work_dir = osp.join(plan.out_dir, 'accuracy', entry.name)
    common = dict(
        data_root=data_root,
        work_dir=work_dir,
        device=plan.device,
        cfg_options=plan.cfg_options)
    if plan.checkpoints:
        if entry.name not in plan.checkpoints:
            return None, f'no --checkpoint {entry.name}=PATH'
        progress('accuracy', f'evaluating {plan.checkpoints[entry.name]}')
        result = acc.evaluate_checkpoint(entry.config,
                                         plan.checkpoints[entry.name],
                                         **common)
    else:
        progress(
            'accuracy', f'training {osp.basename(entry.synthetic_config)}'
            f' for {plan.train_iters} iterations')
        result = acc.train_and_evaluate(
            entry.synthetic_config,
            iters=plan.train_iters,
            reference=entry.reference,
            seed=plan.seed,
            **common)
    progress(
        'accuracy', f'PQ {result["PQ"]:.1f}, PQ_th '
        f'{result["PQ_th"]:.1f}, PQ_st {result["PQ_st"]:.1f}')
    return result, ''


def _settings(plan: Plan) -> dict:
    labels = {p: precision_label(p, plan.device) for p in plan.precisions}
    with PeakMemory(plan.device) as probe:
        pass
    return dict(
        batch=plan.batch,
        height=plan.height,
        width=plan.width,
        instances=plan.instances,
        infer_batch=plan.infer_batch,
        steps=plan.steps,
        warmup=plan.warmup,
        precisions=list(plan.precisions),
        precision_labels=labels,
        amp=amp_choice(plan.device)[1] if 'amp' in plan.precisions else None,
        peak_flops={
            p: dict(zip(('flops', 'note'), _peak(plan, p)))
            for p in plan.precisions
        },
        train_iters=None
        if plan.skip_accuracy or plan.checkpoints else plan.train_iters,
        data_root=plan.data_root,
        checkpoints=plan.checkpoints,
        cfg_options=plan.cfg_options,
        seed=plan.seed,
        threads=torch.get_num_threads(),
        clock='wall time'
        if plan.clock == 'wall' else 'process CPU time (time.process_time)',
        memory_method=probe.method,
        flop_counter=FLOP_COUNTER,
        mfu_formula='train: 3 * forward FLOPs * batch / step time / peak; '
        'inference: forward FLOPs / batch-1 latency / peak',
        optimizer='SGD (lr 1e-4, momentum 0.9, weight decay 1e-4) in an '
        'mmengine OptimWrapper (AmpOptimWrapper for fp16)',
        init='random (seeded), backbone init_cfg=None',
        inference_load='full: test_cfg.rcnn.score_thr=0, every model keeps '
        'max_per_img detections through the mask head and fusion')


def _save(result: dict, plan: Plan) -> None:
    add_ratios(result['models'], plan.reference.name)
    write_json(result, osp.join(plan.out_dir, 'benchmark.json'))
    with open(osp.join(plan.out_dir, 'benchmark.md'), 'w') as f:
        f.write(markdown(result))


def run_plan(plan: Plan) -> dict:
    """Measure every model; write ``benchmark.json``, ``benchmark.md`` and
    the PNGs into ``plan.out_dir`` (the JSON and table after each model,
    so an interrupted run keeps what it measured).

    Raises:
        RuntimeError: after writing the reports, if a phase failed.
    """
    os.makedirs(plan.out_dir, exist_ok=True)
    threads = torch.get_num_threads()
    if plan.threads is not None:
        torch.set_num_threads(plan.threads)
    try:
        return _run(plan)
    finally:
        torch.set_num_threads(threads)


def _run(plan: Plan) -> dict:
    # quiet model building (init_weights logs every parameter at INFO)
    MMLogger.get_instance(
        f'panoptic_zoo.benchmark-{time.time_ns()}', log_level='WARNING')
    rows = [
        dict(
            name=e.name,
            config=e.config,
            synthetic_config=e.synthetic_config,
            reference=e.reference,
            params=None,
            flops_per_image=None,
            forward_flops_per_image=None,
            host_syncs=None,
            speed=None,
            accuracy=None,
            accuracy_note='',
            errors={}) for e in plan.entries
    ]
    result = dict(
        benchmark='panoptic-zoo benchmark',
        date=now(),
        command=command_line(),
        environment=environment(plan.device),
        settings=_settings(plan),
        reference=plan.reference.name,
        models=rows,
        plots=[])
    progress = Progress(len(rows))
    phases = [] if plan.skip_speed else ['speed']
    phases += [] if plan.skip_accuracy else ['accuracy']
    data_root = None
    if 'accuracy' in phases and not plan.checkpoints:
        data_root = acc.prepare_data_root(plan.data_root, plan.out_dir)
    elif plan.checkpoints:
        data_root = plan.data_root
    for phase in phases:
        for i, (entry, row) in enumerate(zip(plan.entries, rows), 1):
            progress.model(i, entry.name)
            try:
                if phase == 'speed':
                    row.update(measure_speed(entry, plan, progress))
                else:
                    row['accuracy'], row['accuracy_note'] = \
                        measure_accuracy(entry, plan, data_root, progress)
            except Exception as error:  # keep measuring the other models
                row['errors'][phase] = f'{type(error).__name__}: {error}'
                progress(phase, 'FAILED ' + row['errors'][phase])
                traceback.print_exc()
            release_memory(plan.device)
            _save(result, plan)
    if plan.skip_accuracy:
        for row in rows:
            row['accuracy_note'] = 'skipped (--skip-accuracy)'
    result['plots'] = write_plots(result, plan.out_dir)
    _save(result, plan)
    failed = {r['name']: r['errors'] for r in rows if r['errors']}
    if failed:
        raise RuntimeError(f'benchmark phases failed: {failed}; the other '
                           f'results are in {plan.out_dir}')
    return result
