"""Load the zoo's configs, shrunk for fast CPU tests."""
from pathlib import Path

from mmengine.config import Config

from panoptic_zoo.zoo_configs import resolve_config, zoo_config

REPO_ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC_CONFIG = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


def config_path(relative: str) -> str:
    """Absolute path of the zoo config ``<relative>``."""
    return zoo_config(relative)


def tiny_synthetic_config(data_root: str,
                          work_dir: str,
                          max_iters: int = 20,
                          relative: str = SYNTHETIC_CONFIG) -> Config:
    """A ``_synthetic`` config (a zoo config's name, or a path) made fast:
    in-process data loading, ``max_iters`` iterations, one checkpoint and
    one evaluation at the end.
    """
    from panoptic_zoo.engine.launch import load_config
    cfg = load_config(resolve_config(relative), work_dir=work_dir,
                      data_root=data_root)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters
    cfg.default_hooks.checkpoint.interval = max_iters
    cfg.default_hooks.logger.interval = 1
    for scheduler in cfg.param_scheduler:
        scheduler.end = min(scheduler.end, max_iters)
        if 'milestones' in scheduler:
            scheduler.milestones = [max_iters]
    cfg.log_level = 'WARNING'
    return cfg
