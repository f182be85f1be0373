"""What ``train --resume`` does before the runner exists.

* picks the checkpoint: ``--resume`` alone takes the newest intact one of
  the work dir (``last_checkpoint`` first, falling back with a warning),
  ``--resume PATH`` takes PATH if it exists and is intact; with nothing to
  resume from it is an error, never a silent fresh start;
* runs with the checkpoint's seed: the samplers and loader workers are
  seeded when the runner builds them, before MMEngine's resume would switch
  seeds, so a run without a fixed seed would otherwise resume with another
  data order.
"""
from typing import Optional

import logging
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from . import preflight
from .checkpoint_files import checked_checkpoint, latest_intact_checkpoint
from .worker_guard import guard_runner_loaders


def checkpoint_seed(path: str) -> Optional[int]:
    """The seed in a checkpoint's meta; tensors are mapped, not read."""
    checkpoint = torch.load(path, map_location='cpu', mmap=True)
    return checkpoint.get('meta', {}).get('seed')


def apply_resume(cfg: Config, resume: Optional[str]) -> None:
    """Set ``cfg.resume``/``cfg.load_from`` (and the seed) for ``--resume``.

    ``resume`` is None (no resume), ``'auto'`` (the work dir's newest intact
    checkpoint) or a checkpoint path.
    """
    if resume is None:
        return
    path = (latest_intact_checkpoint(cfg.work_dir)
            if resume == 'auto' else checked_checkpoint(resume))
    cfg.resume, cfg.load_from = True, path
    seed = checkpoint_seed(path)
    randomness = dict(cfg.get('randomness') or {})
    if seed is not None and randomness.get('seed') != seed:
        if randomness.get('seed') is not None:
            print_log(
                f'randomness.seed={randomness["seed"]} replaced by the '
                f'seed {seed} the checkpoint was trained with',
                logger='current',
                level=logging.WARNING)
        cfg.randomness = dict(randomness, seed=seed)


def build_runner(cfg: Config) -> Runner:
    """The runner (:func:`preflight.build_runner`: a short console log)
    whose data-loader workers die with it."""
    runner = preflight.build_runner(cfg)
    guard_runner_loaders(runner)
    return runner
