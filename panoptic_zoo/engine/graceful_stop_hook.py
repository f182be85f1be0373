"""SIGTERM: finish the current iteration, save a checkpoint, exit.

Schedulers (Slurm, Kubernetes, spot instances) send SIGTERM some seconds
before SIGKILL. Python's default is to die at once, losing everything since
the last periodic checkpoint. With this hook the step in progress completes,
the checkpoint hook saves it (atomically, resumable with ``--resume``), and
the process exits with status 143 (128 + SIGTERM), so the scheduler sees an
interrupted job, not a finished one.
"""
import logging
import os.path as osp
import signal
import threading

from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from panoptic_zoo.registry import HOOKS


@HOOKS.register_module()
class GracefulStopHook(Hook):
    """Save and stop at the end of the iteration (or epoch) on a signal.

    Args:
        signals (tuple[str]): signal names to handle. SIGINT is left out by
            default so Ctrl-C still interrupts at once.
    """

    # After the checkpoint hook (VERY_LOW) has had its turn.
    priority = 'LOWEST'

    def __init__(self, signals=('SIGTERM', )):
        self.signals = [getattr(signal, name) for name in signals]
        self.received = None
        self._previous = {}

    def _on_signal(self, signum, frame):
        self.received = signum

    def before_train(self, runner) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # handlers can only be set from the main thread
        for signum in self.signals:
            self._previous[signum] = signal.signal(signum, self._on_signal)

    def after_train(self, runner) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self.received is not None and hasattr(runner.train_loop,
                                                 'dataloader_iterator'):
            self._save_and_exit(runner, runner.iter + 1)

    def after_train_epoch(self, runner) -> None:
        # An epoch loop resumes only at epoch starts: stop there.
        if self.received is not None:
            self._save_and_exit(runner, runner.epoch + 1)

    def _save_and_exit(self, runner, step) -> None:
        saved = None
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook):
                name = hook.filename_tmpl.format(step)
                last = hook.last_ckpt and osp.basename(hook.last_ckpt)
                if last != name:  # not saved by its own interval just now
                    hook._save_checkpoint(runner)
                saved = hook.last_ckpt
        name = signal.Signals(self.received).name
        print_log(
            f'{name} received: stopped after step {step}, checkpoint '
            f'{saved}; continue with --resume',
            logger='current',
            level=logging.WARNING)
        raise SystemExit(128 + self.received)
