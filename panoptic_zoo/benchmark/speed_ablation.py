"""What each speed setting buys our Panoptic FPN, against mmdet's, in one
process: the settings are switched on one after another (each row keeps
the ones above it) and every row is timed, profiled and compared with the
reference measured in the same run with the same input.

Rows (``VARIANTS``): mmdet fp32 and AMP; ours fp32 (the same model, the
parity test proves it); then AMP, cuDNN autotuning, channels-last
backbone and neck, the samplers' permutations drawn on the GPU, the
sync-free heuristic fusion, the sync-free max-IoU assigner, mask targets
cropped on the GPU, the box head's top-k exact NMS and the RPN's cached
anchors (the last row is ``panoptic-fpn_r50_fpn_fast-1x_coco.py``).
``python tools/speed_ablation.py`` prints a markdown table and writes JSON.
"""
import json
import os.path as osp
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import torch

from . import complexity, speed, trace
from .build import build_model
from .environment import environment
from .inputs import make_batch
from .memory import release_memory
from .zoo import CONFIG_ROOT, REFERENCE_CONFIG, ZooEntry

OURS = str(CONFIG_ROOT / 'panoptic_fpn' / 'panoptic-fpn_r50_fpn_1x_coco.py')


class Variant(NamedTuple):
    name: str
    reference: bool
    precision: str  # 'fp32' | 'amp'
    cudnn_benchmark: bool
    cfg_options: Dict[str, object]


def _cumulative(rows) -> Tuple[Variant, ...]:
    """Our rows, each keeping the config options of the rows above it:
    ``rows`` are (name, precision, cudnn_benchmark, options it adds)."""
    options: Dict[str, object] = {}
    variants = []
    for name, precision, cudnn_benchmark, added in rows:
        options = {**options, **added}
        variants.append(Variant(name, False, precision, cudnn_benchmark,
                                options))
    return tuple(variants)


VARIANTS = (
    Variant('mmdet fp32', True, 'fp32', False, {}),
    Variant('mmdet amp', True, 'amp', False, {}),
) + _cumulative([
    ('ours fp32', 'fp32', False, {}),
    ('+ amp', 'amp', False, {}),
    ('+ cudnn.benchmark', 'amp', True, {}),
    ('+ channels_last', 'amp', True, {
        'model.channels_last': True
    }),
    ('+ GPU samplers', 'amp', True, {
        'model.train_cfg.rpn.sampler.type': 'DeviceRandomSampler',
        'model.train_cfg.rcnn.sampler.type': 'DeviceRandomSampler',
    }),
    ('+ sync-free fusion', 'amp', True, {
        'model.panoptic_fusion_head.type': 'SyncFreeHeuristicFusionHead'
    }),
    ('+ sync-free assigner', 'amp', True, {
        'model.train_cfg.rpn.assigner.type': 'SyncFreeMaxIoUAssigner',
        'model.train_cfg.rcnn.assigner.type': 'SyncFreeMaxIoUAssigner',
    }),
    ('+ GPU mask targets', 'amp', True, {
        'model.roi_head.mask_head.type': 'SyncFreeFCNMaskHead'
    }),
    ('+ top-k NMS', 'amp', True, {
        'model.roi_head.bbox_head.type': 'TopKNMSShared2FCBBoxHead'
    }),
    ('+ cached anchors', 'amp', True, {
        'model.rpn_head.anchor_generator.type': 'CachedAnchorGenerator'
    }),
])


def _measure(variant: Variant, device: str, shape: tuple, instances: int,
             infer_batch: int, steps: int, warmup: int) -> dict:
    torch.backends.cudnn.benchmark = variant.cudnn_benchmark
    if speed.amp_dtype(device) is None:  # no AMP on a CPU: the fp32 step
        variant = variant._replace(precision='fp32')
    config = REFERENCE_CONFIG if variant.reference else OURS
    entry = ZooEntry(variant.name, config, reference=variant.reference)
    model = build_model(entry, device, variant.cfg_options)
    batch, height, width = shape
    train = make_batch(model, batch, height, width, instances, training=True)
    single = make_batch(model, 1, height, width, instances, training=False)
    many = make_batch(
        model, infer_batch, height, width, instances, training=False)
    row = dict(
        name=variant.name,
        precision=speed.precision_label(variant.precision, device),
        cudnn_benchmark=variant.cudnn_benchmark,
        cfg_options=variant.cfg_options)
    row['train'] = speed.measure_train(
        model,
        train,
        steps=steps,
        warmup=warmup,
        precision=variant.precision,
        device=device)
    row['inference'] = speed.measure_inference(
        model,
        single,
        many,
        steps=steps,
        warmup=warmup,
        precision=variant.precision,
        device=device)
    row['train_trace'] = _trace_train(model, train, variant, device)
    row['infer_trace'] = _trace_infer(model, single, variant, device)
    row['forward_flops'] = complexity.forward_flops(model, single)
    del model
    release_memory(device)
    return row


def _trace_train(model, data, variant, device) -> dict:
    step = speed.train_step(model, data, variant.precision, device)
    step()  # warm: the optimizer state exists before the profiled call
    return trace.profile_calls(step, 1, device)


def _trace_infer(model, data, variant, device) -> dict:
    model.eval()
    predict = speed.predict_call(model, data, variant.precision, device)
    predict()
    out = trace.profile_calls(predict, 1, device)
    model.train()
    return out


def run(device: str,
        shape: tuple,
        instances: int,
        infer_batch: int,
        steps: int,
        warmup: int,
        names: Optional[List[str]] = None,
        on_row: Optional[Callable[[dict], None]] = None) -> dict:
    """Measure every variant (or those in ``names``); ratios to mmdet's
    fp32 row of the same run (the first row if it is not measured).
    ``on_row(result)`` is called after each row, e.g. to print and save
    what is done so far."""
    device_name = environment(device)['device_name']
    result = dict(environment=environment(device), input=list(shape),
                  instances=instances, rows=[])
    for variant in VARIANTS:
        if names is not None and variant.name not in names:
            continue
        start = time.perf_counter()
        row = _measure(variant, device, shape, instances, infer_batch, steps,
                       warmup)
        row['measure_s'] = time.perf_counter() - start
        result['rows'].append(row)
        ref = result['rows'][0]
        row['train_ratio'] = row['train']['s_per_iter'] / \
            ref['train']['s_per_iter']
        row['throughput_ratio'] = row['inference']['throughput'] / \
            ref['inference']['throughput']
        dtype = 'fp32' if row['precision'] == 'fp32' else \
            row['precision'][5:9]
        peak, _ = complexity.peak_flops(str(device_name), dtype)
        row['train_mfu'] = complexity.mfu(
            row['forward_flops'], shape[0], row['train']['s_per_iter'],
            peak, passes=3)
        if on_row is not None:
            on_row(result)
    return result


def markdown(result: dict) -> str:
    """One line per variant: time, memory, throughput, host-side waits."""
    lines = [
        '| variant | train s/iter | × mmdet fp32 | peak GiB | MFU | '
        'infer ms/img (b=1) | img/s (batch) | × mmdet | syncs/step | '
        'launches/step | GPU busy |',
        '|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    for r in result['rows']:
        t, i, tr = r['train'], r['inference'], r['train_trace']
        mfu = '–' if r['train_mfu'] is None else f"{100 * r['train_mfu']:.1f}%"
        lines.append(
            f"| {r['name']} | {t['s_per_iter']:.3f} | {r['train_ratio']:.2f}"
            f" | {t['peak_memory_bytes'] / 2**30:.2f} | {mfu} | "
            f"{1e3 * i['latency_s']:.1f} | {i['throughput']:.1f} | "
            f"{r['throughput_ratio']:.2f} | {tr['stream_syncs']:.0f} | "
            f"{tr['kernel_launches']:.0f} | "
            f"{100 * tr.get('gpu_busy_share', float('nan')):.0f}% |")
    return '\n'.join(lines)


def save(result: dict, out_dir: str) -> str:
    path = osp.join(out_dir, 'speed_ablation.json')
    with open(path, 'w') as f:
        json.dump(result, f, indent=1, default=str)
    return path
