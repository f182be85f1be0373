"""Checks and adjustments made to a config before a runner is built.

Each check fails with one line naming the problem and the fix, instead of
a traceback from deep inside a dataset or an optimizer wrapper.
"""
import os
import os.path as osp

from mmengine.config import Config


class DataRootError(FileNotFoundError):
    """The dataset a config names is not where it looks."""


def check_data_root(cfg: Config, splits=('train', 'val', 'test')) -> None:
    """Every annotation file of the used splits exists.

    Raises:
        DataRootError: Naming the missing file, the data root resolved
            against the current folder, and the two fixes.
    """
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        dataset = loader['dataset']
        while 'dataset' in dataset and 'data_root' not in dataset:
            dataset = dataset['dataset']  # wrappers (RepeatDataset, ...)
        root = dataset.get('data_root') or ''
        ann = dataset.get('ann_file') or ''
        if not ann:
            continue
        path = osp.join(root, ann)
        if osp.isfile(path):
            continue
        where = (f' (data root {root!r} is relative to the current folder '
                 f'{os.getcwd()})' if root and not osp.isabs(root) else '')
        raise DataRootError(
            f'{split} annotations {path} not found{where}; run '
            f'`panoptic-zoo make-data {root or "DIR"}` for the built-in '
            'dataset, or pass --data-root /absolute/path/to/dataset')


def adapt_log_interval(cfg: Config) -> None:
    """Log losses at least ~10 times in a short iteration-based run (the
    configs' interval of 50 prints nothing in a 20-iteration run)."""
    train_cfg = cfg.get('train_cfg') or {}
    logger = (cfg.get('default_hooks') or {}).get('logger')
    max_iters = train_cfg.get('max_iters')
    if not logger or not max_iters or train_cfg.get('by_epoch', False):
        return
    interval = logger.get('interval', 10)
    logger['interval'] = max(1, min(interval, max_iters // 10))


def check_amp() -> None:
    """``--amp`` needs a GPU: MMEngine's ``AmpOptimWrapper`` refuses the
    CPU (float16 autocast is a GPU feature; bfloat16 on a CPU is slower
    than float32 for these convolutions on most CPUs)."""
    import torch
    if not torch.cuda.is_available():
        raise ValueError('--amp (mixed precision) needs a CUDA GPU and '
                         'none is visible here; train without --amp')


def is_url(path: str) -> bool:
    return str(path).startswith(('http://', 'https://'))


def add_outputs(cfg: Config, out_dir=None, show_dir=None) -> None:
    """``test --out/--show-dir``: add :class:`PanopticOutputHook`."""
    if out_dir or show_dir:
        cfg.setdefault('custom_hooks', [])
        cfg.custom_hooks.append(
            dict(type='PanopticOutputHook', out_dir=out_dir,
                 show_dir=show_dir))


def build_runner(cfg: Config):
    """A runner with a short console log (:class:`QuietRunner`); torch
    can load MMEngine checkpoints (``resume``, ``load_from``)."""
    from panoptic_zoo.quiet import quiet_library_warnings
    from .checkpoint import allow_mmengine_checkpoints
    from .runner import QuietRunner
    quiet_library_warnings()
    allow_mmengine_checkpoints()
    return QuietRunner.from_cfg(cfg)
