"""PQ of a model: after a short training of its ``_synthetic`` config on
the built-in dataset, or of a given checkpoint on a COCO-layout dataset.

Both go through the project's training entry (:func:`load_config`,
:func:`set_data_root`, mmengine's ``Runner``); PQ / PQ_th / PQ_st are the
config's evaluator's numbers (``coco_panoptic/*``).
"""
import os
import os.path as osp
import time
from typing import Optional

from mmengine.config import Config, ConfigDict
from mmengine.hooks import Hook
from mmengine.runner import Runner

from panoptic_zoo.engine.checkpoint import allow_mmengine_checkpoints
from panoptic_zoo.engine.launch import load_config
from panoptic_zoo.models.segmentors.wiring import fill_from_neck

PQ_KEYS = ('PQ', 'PQ_th', 'PQ_st', 'SQ', 'RQ')


class _MetricsRecorder(Hook):
    """Keeps the metrics of the last validation (not registered: added to
    one runner with ``register_hook``)."""
    priority = 'LOWEST'

    def __init__(self) -> None:
        self.metrics = None

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics = dict(metrics or {})


def prepare_data_root(data_root: Optional[str], out_dir: str) -> str:
    """``data_root`` if given, else the built-in dataset generated (once)
    into ``<out_dir>/data/synthetic`` (``panoptic-zoo make-data``'s
    defaults)."""
    if data_root is not None:
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'--data-root: not a directory: {data_root}')
        return data_root
    root = osp.join(out_dir, 'data', 'synthetic')
    if not osp.isfile(osp.join(root, 'annotations', 'panoptic_val2017.json')):
        from panoptic_zoo.datasets import make_synthetic_dataset
        print(
            f'[benchmark] writing the built-in dataset to {root}', flush=True)
        make_synthetic_dataset(root)
    return root


def _pq(metrics: dict) -> dict:
    """``{'PQ': .., 'PQ_th': .., ...}`` from ``coco_panoptic/PQ`` keys."""
    short = {k.split('/')[-1]: float(v) for k, v in metrics.items()}
    missing = [k for k in PQ_KEYS[:3] if k not in short]
    if missing:
        raise KeyError(f'evaluator returned {sorted(metrics)}: no {missing}')
    return {k: short[k] for k in PQ_KEYS if k in short}


def _own_visualizer(cfg: Config) -> None:
    """A visualizer of this run's own: mmengine reuses an instance of the
    same name, which would write into the previous model's directory."""
    if cfg.get('visualizer'):
        cfg.visualizer.name = f'benchmark-{time.time_ns()}'


def _cpu_loaders(cfg: Config) -> None:
    """In-process data loading (on a CPU the workers only compete with the
    model for the cores)."""
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader:
            loader.num_workers = 0
            loader.persistent_workers = False


def short_schedule(cfg: Config, iters: int) -> None:
    """Train ``cfg`` for ``iters`` iterations: one evaluation and one
    checkpoint at the end; warm-up and lr steps scaled by
    ``iters / max_iters``."""
    if cfg.train_cfg.get('type') != 'IterBasedTrainLoop':
        raise ValueError(f'{cfg.filename}: an iteration-based train_cfg is '
                         f'needed, got {cfg.train_cfg.get("type")!r}')
    scale = iters / cfg.train_cfg.max_iters
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.checkpoint.by_epoch = False
    for scheduler in cfg.get('param_scheduler') or []:
        for key in ('begin', 'end'):
            if scheduler.get(key):  # 0 stays 0
                scheduler[key] = min(_scaled(scheduler[key], scale), iters)
        if 'milestones' in scheduler:
            scheduler.milestones = [
                _scaled(m, scale) for m in scheduler.milestones
            ]


def _scaled(iteration: int, scale: float) -> int:
    return max(round(iteration * scale), 1)


def train_and_evaluate(config: str,
                       *,
                       iters: int,
                       data_root: str,
                       work_dir: str,
                       device: str,
                       reference: bool = False,
                       cfg_options: Optional[dict] = None,
                       seed: int = 0) -> dict:
    """Train a ``_synthetic`` config for ``iters`` iterations, evaluate PQ.

    Args:
        config (str): The ``_synthetic`` config.
        iters (int): Training iterations.
        data_root (str): The built-in dataset.
        work_dir (str): Logs and the final checkpoint.
        device (str): ``'cpu'`` loads data in-process.
        reference (bool): Train mmdet's ``PanopticFPN`` class with these
            settings instead (``model.type`` switched, ``attention``
            removed).
        cfg_options (dict, optional): Config overrides.
        seed (int): Runner seed.

    Returns:
        dict: ``PQ``, ``PQ_th``, ``PQ_st`` (and SQ, RQ), ``iters``,
        ``config``, ``checkpoint``, ``source``.
    """
    allow_mmengine_checkpoints()
    cfg = load_config(config, work_dir, cfg_options, data_root=data_root)
    if reference:
        # mmdet's model and parts, with the widths our segmentor would
        # fill from the neck (the configs leave them out).
        cfg.model = ConfigDict(fill_from_neck(cfg.model.to_dict()))
        cfg.model.type = 'mmdet.PanopticFPN'
        cfg.model.pop('attention', None)
        for key in ('rpn_head', 'semantic_head', 'panoptic_fusion_head'):
            cfg.model[key].type = 'mmdet.' + cfg.model[key].type
    short_schedule(cfg, iters)
    if device == 'cpu':
        _cpu_loaders(cfg)
    cfg.randomness = dict(seed=seed)
    cfg.log_level = 'WARNING'
    _own_visualizer(cfg)
    runner = Runner.from_cfg(cfg)
    recorder = _MetricsRecorder()
    runner.register_hook(recorder)
    runner.train()
    if recorder.metrics is None:
        raise RuntimeError(f'{config}: training ran no evaluation')
    checkpoint = osp.join(work_dir, f'iter_{iters}.pth')
    return dict(
        _pq(recorder.metrics),
        iters=iters,
        config=config,
        model_type=str(cfg.model.type),
        checkpoint=checkpoint if osp.isfile(checkpoint) else None,
        source='built-in dataset, val split, after training')


def check_coco_layout(cfg: Config, data_root: str) -> None:
    """Fail naming every missing path of the test split under
    ``data_root`` (COCO panoptic: ``annotations/panoptic_val2017.json``,
    ``val2017/``, ``annotations/panoptic_val2017/``)."""
    dataset = cfg.test_dataloader.dataset
    while 'dataset' in dataset and 'ann_file' not in dataset:
        dataset = dataset.dataset
    paths = [dataset.ann_file] + [
        dataset.data_prefix[k]
        for k in ('img', 'seg') if k in dataset.get('data_prefix', {})
    ]
    missing = [p for p in paths if not osp.exists(osp.join(data_root, p))]
    if missing:
        raise FileNotFoundError(
            f'--data-root {data_root} is not in the COCO panoptic layout '
            f'{cfg.filename} reads: missing {", ".join(missing)}')


def evaluate_checkpoint(config: str,
                        checkpoint: str,
                        *,
                        data_root: str,
                        work_dir: str,
                        device: str,
                        cfg_options: Optional[dict] = None) -> dict:
    """PQ of ``checkpoint`` on the test split of ``config`` (COCO val2017
    panoptic for a COCO config) under ``data_root``: mmengine's
    ``Runner.test`` with the config's dataloader and evaluator."""
    allow_mmengine_checkpoints()
    cfg = load_config(config, work_dir, cfg_options, data_root=data_root)
    check_coco_layout(cfg, data_root)
    cfg.load_from = checkpoint
    if device == 'cpu':
        _cpu_loaders(cfg)
    cfg.log_level = 'WARNING'
    _own_visualizer(cfg)
    os.makedirs(work_dir, exist_ok=True)
    metrics = Runner.from_cfg(cfg).test()
    return dict(
        _pq(metrics),
        config=config,
        checkpoint=checkpoint,
        source=f'checkpoint on {data_root} (test split of the config)')
