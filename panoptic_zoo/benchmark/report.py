"""Ratios to the reference, the JSON file and the markdown tables.

A row (one model) is a plain dict::

    name, config, synthetic_config, reference (bool), params,
    flops_per_image,
    speed: {precision: {train: {s_per_iter, peak_memory_bytes, ...},
                        inference: {latency_s, throughput, batch, ...},
                        mfu: {train, inference, peak_flops, note}}},
    accuracy: {PQ, PQ_th, PQ_st, ...} or None, accuracy_note,
    ratios: {params, flops, precision: {train_time, train_memory,
             infer_latency, infer_throughput}}
"""
import json
import math
from typing import List, Optional, Sequence

#: ratio key: (speed phase, field); each is row / reference.
RATIO_FIELDS = {
    'train_time': ('train', 's_per_iter'),
    'train_memory': ('train', 'peak_memory_bytes'),
    'infer_latency': ('inference', 'latency_s'),
    'infer_throughput': ('inference', 'throughput'),
}


def ratio(value: Optional[float],
          reference: Optional[float]) -> Optional[float]:
    """``value / reference``; None if either is missing or the reference
    is not positive."""
    if value is None or reference is None or not reference > 0:
        return None
    return float(value) / float(reference)


def speed_value(row: dict, precision: str, phase: str,
                field: str) -> Optional[float]:
    try:
        return row['speed'][precision][phase][field]
    except (KeyError, TypeError):
        return None


def add_ratios(rows: List[dict], reference_name: str) -> None:
    """Fill each row's ``ratios`` against the row named ``reference_name``
    (in place)."""
    ref = next(r for r in rows if r['name'] == reference_name)
    for row in rows:
        ratios = dict(
            params=ratio(row.get('params'), ref.get('params')),
            flops=ratio(
                row.get('flops_per_image'), ref.get('flops_per_image')))
        for precision in (row.get('speed') or {}):
            ratios[precision] = {
                key:
                ratio(
                    speed_value(row, precision, *where),
                    speed_value(ref, precision, *where))
                for key, where in RATIO_FIELDS.items()
            }
        row['ratios'] = ratios


def _check_finite(obj, path='result'):
    """JSON has no NaN/inf: refuse them with the field's path."""
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError(f'{path} is {obj}: a measurement failed')
    if isinstance(obj, dict):
        for k, v in obj.items():
            _check_finite(v, f'{path}.{k}')
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_finite(v, f'{path}[{i}]')


def write_json(result: dict, path: str) -> None:
    _check_finite(result)
    with open(path, 'w') as f:
        json.dump(result, f, indent=2, allow_nan=False)


# ----------------------------------------------------------------- markdown
def _num(value, fmt: str, scale: float = 1.0) -> str:
    """``value * scale`` formatted (a suffix after a space is kept), or
    '–' when missing."""
    fmt, _, suffix = fmt.partition(' ')
    if value is None:
        return '–'
    return format(value * scale, fmt) + (f' {suffix}' if suffix else '')


def format_bytes(value: Optional[float]) -> str:
    if value is None:
        return '–'
    if value >= 1024**3:
        return f'{value / 1024**3:.2f} GiB'
    return f'{value / 1024**2:.0f} MiB'


def _table(header: Sequence[str], lines: List[Sequence[str]]) -> str:
    out = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    out += ['| ' + ' | '.join(line) + ' |' for line in lines]
    return '\n'.join(out)


def _name(row: dict) -> str:
    return f'**{row["name"]}** (reference)' if row['reference'] else \
        row['name']


def speed_table(rows: List[dict], precision: str) -> str:
    """One row per model: training and inference at ``precision``."""
    header = ('model', 'train s/iter', '×ref', 'train peak mem', '×ref',
              'infer ms/img (batch 1)', '×ref', 'infer img/s', '×ref',
              'MFU train', 'MFU infer')
    lines = []
    for row in rows:
        speed = (row.get('speed') or {}).get(precision)
        if speed is None:
            continue
        r = row['ratios'].get(precision, {})
        train, infer, mfu = speed['train'], speed['inference'], speed['mfu']
        lines.append([
            _name(row),
            _num(train['s_per_iter'], '.3f'),
            _num(r.get('train_time'), '.2f'),
            format_bytes(train['peak_memory_bytes']),
            _num(r.get('train_memory'), '.2f'),
            _num(infer['latency_s'], '.1f', 1e3),
            _num(r.get('infer_latency'), '.2f'),
            f'{infer["throughput"]:.2f} (batch {infer["batch"]})',
            _num(r.get('infer_throughput'), '.2f'),
            _num(mfu['train'], '.1%'),
            _num(mfu['inference'], '.1%'),
        ])
    return _table(header, lines)


def size_accuracy_table(rows: List[dict]) -> str:
    """One row per model: parameters, FLOPs and PQ."""
    header = ('model', 'params', '×ref', 'GFLOPs/img (predict)', '×ref',
              'GFLOPs/img (_forward)', 'host syncs (train step / predict)',
              'PQ', 'PQ_th', 'PQ_st', 'PQ from')
    lines = []
    for row in rows:
        r = row.get('ratios', {})
        acc = row.get('accuracy') or {}
        lines.append([
            _name(row),
            _num(row.get('params'), '.1f M', 1e-6),
            _num(r.get('params'), '.2f'),
            _num(row.get('flops_per_image'), '.1f', 1e-9),
            _num(r.get('flops'), '.2f'),
            _num(row.get('forward_flops_per_image'), '.1f', 1e-9),
            _syncs(row.get('host_syncs')),
            _num(acc.get('PQ'), '.1f'),
            _num(acc.get('PQ_th'), '.1f'),
            _num(acc.get('PQ_st'), '.1f'),
            _accuracy_source(row),
        ])
    return _table(header, lines)


def _syncs(counts: Optional[dict]) -> str:
    return '–' if not counts else \
        f'{counts["train_step"]} / {counts["predict"]}'


def _accuracy_source(row: dict) -> str:
    acc = row.get('accuracy')
    if acc is None:
        return row.get('accuracy_note') or '–'
    if 'iters' in acc:
        model = ' (mmdet PanopticFPN)' if row['reference'] else ''
        return f'`{acc["config"].split("configs/")[-1]}`{model}, ' \
            f'{acc["iters"]} iters'
    return f'checkpoint `{acc["checkpoint"]}`'


def _header(result: dict) -> List[str]:
    """How the benchmark was run, as markdown list items."""
    env, settings = result['environment'], result['settings']
    versions = f'torch {env["torch"]}'
    if env['device'] == 'cuda':
        versions += f', CUDA {env["cuda"]}, cuDNN {env["cudnn"]}'
    versions += f', mmcv {env["mmcv"]}, mmdet {env["mmdet"]}'
    items = [
        f'command: `{result["command"]}`',
        f'date: {result["date"]}',
        f'device: {env["device_name"]} ({env["device"]}); {versions}',
        f'input: train batch {settings["batch"]} of {settings["height"]}'
        f'×{settings["width"]}, {settings["instances"]} instances per '
        f'image; inference batch 1 and {settings["infer_batch"]}; median '
        f'of {settings["steps"]} after {settings["warmup"]} warm-up; '
        f'{settings["threads"]} CPU thread(s); clock: {settings["clock"]}',
        f'inference load: {settings["inference_load"]}',
        f'memory: {settings["memory_method"]}',
        f'FLOPs: {settings["flop_counter"]}',
        f'reference: `{result["reference"]}` (MMDetection\'s own Panoptic '
        'FPN, same run, same input); ×ref = row / reference',
    ]
    if settings.get('amp'):
        items.append(f'AMP: {settings["amp"]}')
    return [f'- {item}' for item in items]


def markdown(result: dict) -> str:
    """The report: how it was run, one speed table per precision, then
    size and accuracy, then any failed phase."""
    rows = result['models']
    parts = ['# panoptic-zoo benchmark', ''] + _header(result) + ['']
    labels = result['settings']['precision_labels']
    for precision, label in labels.items():
        if any(precision in (r.get('speed') or {}) for r in rows):
            parts += [f'## Speed, {label}', '']
            parts += [speed_table(rows, precision), '']
    parts += ['## Size and accuracy', '', size_accuracy_table(rows), '']
    failed = [(r['name'], phase, message) for r in rows
              for phase, message in (r.get('errors') or {}).items()]
    if failed:
        parts += ['## Failed', '']
        parts += [f'- {n}, {phase}: {msg}' for n, phase, msg in failed]
        parts.append('')
    return '\n'.join(parts)
