"""PNG plots of a benchmark (matplotlib, Agg backend): inference speed vs
PQ, and training peak memory per model."""
import os.path as osp
from typing import List, Optional

from .report import speed_value


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def speed_vs_pq(rows: List[dict], precision: str, label: str,
                path: str) -> Optional[str]:
    """Scatter of inference throughput against PQ, one labelled point per
    model with both; None (nothing written) when no model has both."""
    points = [(r, speed_value(r, precision, 'inference',
                              'throughput'), (r.get('accuracy')
                                              or {}).get('PQ')) for r in rows]
    points = [p for p in points if p[1] is not None and p[2] is not None]
    if not points:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    for row, speed, pq in points:
        ax.scatter([speed], [pq],
                   marker='*' if row['reference'] else 'o',
                   s=160 if row['reference'] else 60,
                   color='tab:red' if row['reference'] else 'tab:blue')
        # the reference's label below its point: a model of the same
        # architecture often has the same PQ
        ax.annotate(
            row['name'], (speed, pq),
            textcoords='offset points',
            xytext=(5, -12 if row['reference'] else 5),
            fontsize=8)
    ax.set_xlabel(f'inference throughput, images/s ({label})')
    ax.set_ylabel('PQ')
    ax.set_title('Speed vs PQ (star: reference)')
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def memory_bars(rows: List[dict],
                labels: dict,
                path: str,
                method: str = '') -> Optional[str]:
    """Bar chart of the training peak memory (MiB) per model, one bar per
    precision, ``method`` (how it was measured) in the title; None when no
    speed was measured."""
    precisions = [
        p for p in labels if any(
            speed_value(r, p, 'train', 'peak_memory_bytes') is not None
            for r in rows)
    ]
    if not precisions:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(rows)), 4.5))
    width = 0.8 / len(precisions)
    for k, precision in enumerate(precisions):
        values = [
            (speed_value(r, precision, 'train', 'peak_memory_bytes') or 0) /
            1024**2 for r in rows
        ]
        xs = [
            i + (k - (len(precisions) - 1) / 2) * width
            for i in range(len(rows))
        ]
        ax.bar(xs, values, width, label=labels[precision])
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r['name'] for r in rows],
                       rotation=30,
                       ha='right',
                       fontsize=8)
    ax.set_ylabel('training peak memory, MiB')
    ax.set_title('Training peak memory per model' +
                 (f'\n({method.split(" (")[0]})' if method else ''))
    ax.legend()
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_plots(result: dict, out_dir: str) -> List[str]:
    """Both plots into ``out_dir``; the paths written."""
    labels = result['settings']['precision_labels']
    first = next(iter(labels))
    written = [
        speed_vs_pq(result['models'], first, labels[first],
                    osp.join(out_dir, 'speed_vs_pq.png')),
        memory_bars(result['models'], labels,
                    osp.join(out_dir, 'peak_memory.png'),
                    result['settings']['memory_method'])
    ]
    return [p for p in written if p is not None]
