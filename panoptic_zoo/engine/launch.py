"""Train / test entry points shared by ``tools/*.py`` and ``panoptic-zoo``.

MMDetection's ``tools/train.py`` and ``tools/test.py`` semantics: a config
path, ``--work-dir``, ``--cfg-options``, ``--resume``, ``--load-from``.
"""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config

from panoptic_zoo.datasets.check.config import check_config_data
from panoptic_zoo.zoo_configs import enable_package_scope, resolve_config
from . import preflight
from .config_check import check_and_merge
from .distributed import configure_distributed
from .resume_launch import apply_resume, build_runner

# The argument definitions live in a module that imports no framework, so
# that `panoptic-zoo train --help` is instant; re-exported here.
from panoptic_zoo.run_args import (add_common_args, add_test_args,  # noqa
                                   add_train_args)


def set_data_root(cfg: Config, data_root: str) -> None:
    """Point every dataloader and evaluator of ``cfg`` at ``data_root``.

    Dataset paths are relative to ``data_root``; evaluator paths are joined
    with it in the configs, so they are rebuilt from the dataset's.
    """
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        dataset = loader['dataset']
        while 'dataset' in dataset and 'data_root' not in dataset:
            dataset = dataset['dataset']  # wrappers (RepeatDataset, ...)
        dataset['data_root'] = data_root
        if 'data_root' in cfg:  # so the saved config records it
            cfg.data_root = data_root
        evaluator = cfg.get(f'{split}_evaluator')
        if split == 'train' or not evaluator:
            continue
        for metric in (evaluator if isinstance(evaluator, list) else
                       [evaluator]):
            if 'ann_file' in metric:
                metric['ann_file'] = osp.join(data_root, dataset['ann_file'])
            if 'seg_prefix' in metric:
                metric['seg_prefix'] = osp.join(data_root,
                                                dataset['data_prefix']['seg'])


def load_config(config: str,
                work_dir: Optional[str] = None,
                cfg_options: Optional[dict] = None,
                launcher: str = 'none',
                data_root: Optional[str] = None) -> Config:
    """Read a config, apply overrides and fill the runner's work dir."""
    config = resolve_config(config)
    enable_package_scope()
    cfg = Config.fromfile(config)
    if data_root is not None:
        set_data_root(cfg, data_root)
    check_and_merge(cfg, cfg_options)  # typos fail here, with suggestions
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg


def train(args: argparse.Namespace):
    """Train a model from parsed ``add_train_args`` arguments."""
    cfg = load_config(args.config, args.work_dir, args.cfg_options,
                      args.launcher, args.data_root)
    preflight.check_data_root(cfg)
    preflight.adapt_log_interval(cfg)
    if args.amp:
        preflight.check_amp()
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.load_from is not None:
        cfg.load_from = args.load_from
    if not args.skip_data_check:
        check_config_data(cfg)
    apply_resume(cfg, args.resume)  # checked file, fallback, seed
    configure_distributed(cfg)
    runner = build_runner(cfg)
    runner.train()
    return runner


def test(args: argparse.Namespace) -> dict:
    """Evaluate a checkpoint from parsed ``add_test_args`` arguments."""
    if not (osp.isfile(args.checkpoint) or preflight.is_url(args.checkpoint)):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args.config, args.work_dir, args.cfg_options,
                      args.launcher, args.data_root)
    preflight.check_data_root(cfg, splits=('test', ))
    preflight.add_outputs(cfg, getattr(args, 'out', None),
                          getattr(args, 'show_dir', None))
    cfg.load_from = args.checkpoint
    if not args.skip_data_check:
        check_config_data(cfg)
    configure_distributed(cfg)
    runner = build_runner(cfg)
    return runner.test()


def run_tool(kind: str, argv: Optional[Sequence[str]] = None):
    """``tools/train.py`` / ``tools/test.py`` main: parse and run."""
    parser = argparse.ArgumentParser(description=f'{kind} a panoptic model')
    (add_train_args if kind == 'train' else add_test_args)(parser)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = '0'
    return (train if kind == 'train' else test)(args)
