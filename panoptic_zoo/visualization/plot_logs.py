"""``panoptic-zoo plot-logs WORK_DIR...``: curves of training runs.

Reads MMEngine's scalar logs (``<work_dir>/<timestamp>/vis_data/
scalars.json``, one JSON object per logged step, written by
``LocalVisBackend``) and draws one panel per key (the loss terms, the
total loss, PQ ...) with one line per run, so runs can be compared.
"""
import argparse
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

Series = Dict[str, Tuple[List[float], List[float]]]


def find_scalars(path: str) -> str:
    """The scalar log of a run: a ``scalars.json`` file, or the newest one
    under a work dir.

    Raises:
        FileNotFoundError: Naming the folder and what was looked for.
    """
    if osp.isfile(path):
        return path
    found = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(
            f'{path}: no */vis_data/scalars.json (MMEngine\'s scalar log of '
            'a run; is it a work dir of a run that logged?)')
    return found[-1]


def read_scalars(path: str) -> Series:
    """``{key: (steps, values)}``; validation entries (PQ) are logged at
    the step they were measured."""
    series: Series = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise ValueError(f'{path}:{n}: not a JSON line') from None
            step = row.get('step', row.get('iter'))
            for key, value in row.items():
                if key in ('step', 'iter', 'epoch') or not isinstance(
                        value, (int, float)):
                    continue
                steps, values = series.setdefault(key, ([], []))
                steps.append(step)
                values.append(float(value))
    return series


def default_keys(series: Sequence[Series]) -> List[str]:
    """Every loss term and the PQ numbers found in any run."""
    keys = sorted({k for s in series for k in s})
    return [k for k in keys if k.startswith('loss') or 'PQ' in k]


def plot_runs(paths: Sequence[str], keys: Optional[Sequence[str]],
              out: str, labels: Optional[Sequence[str]] = None) -> str:
    """Draw ``keys`` of every run in ``paths`` to ``out`` (PNG)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    files = [find_scalars(p) for p in paths]
    series = [read_scalars(f) for f in files]
    keys = list(keys or default_keys(series))
    missing = [k for k in keys if not any(k in s for s in series)]
    if missing or not keys:
        known = sorted({k for s in series for k in s})
        raise KeyError(f'no values for {missing or "any key"} in '
                       f'{", ".join(files)}; keys there: {", ".join(known)}')
    labels = list(labels or [osp.basename(osp.normpath(p)) for p in paths])
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(5 * cols, 3.4 * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for run, label in zip(series, labels):
            if key in run:
                steps, values = run[key]
                ax.plot(steps, values, label=label,
                        marker='o' if len(steps) < 20 else None)
        ax.set_title(key)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def add_plot_logs_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        'runs', nargs='+', help='work dirs (newest run in each) or '
        'scalars.json files')
    parser.add_argument(
        '--keys', nargs='+', help='what to plot, e.g. loss loss_mask '
        'coco_panoptic/PQ (default: every loss term and PQ)')
    parser.add_argument('--labels', nargs='+', help='legend names of runs')
    parser.add_argument('--out', default='logs.png',
                        help='PNG to write (default: logs.png)')


def run_plot_logs(args: argparse.Namespace) -> str:
    if args.labels and len(args.labels) != len(args.runs):
        raise ValueError(f'--labels gives {len(args.labels)} names for '
                         f'{len(args.runs)} runs')
    out = plot_runs(args.runs, args.keys, args.out, args.labels)
    print(out)
    return out
