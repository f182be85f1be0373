"""Data-loader workers that die with their trainer.

When the trainer is SIGKILLed, torch's workers notice only between batches
(they poll the parent every few seconds), and a worker whose result queue
is full then blocks at exit on a pipe its siblings keep open: it stays
alive, re-parented, holding its memory. On Linux the kernel can deliver a
signal to a process when its parent dies (``PR_SET_PDEATHSIG``); each worker
asks for SIGKILL first thing, before the loader's own ``worker_init_fn``.
"""
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> bool:
    """Have the kernel SIGKILL this process when its parent exits.

    Returns False where the kernel offers no such thing (not Linux).
    """
    if not sys.platform.startswith('linux'):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    # The parent may have died between fork and prctl: nothing would fire.
    if os.getppid() != parent_pid:
        os._exit(1)
    return True


class DieWithParentInit:
    """A ``worker_init_fn`` that first ties the worker to the trainer, then
    runs the loader's own init function (MMEngine's seeding), if any."""

    def __init__(self, inner=None, parent_pid: int = None):
        self.inner = inner
        self.parent_pid = os.getpid() if parent_pid is None else parent_pid

    def __call__(self, worker_id: int) -> None:
        die_with_parent(self.parent_pid)
        if self.inner is not None:
            self.inner(worker_id)


def guard_workers(loader):
    """Give ``loader`` (a torch DataLoader) die-with-parent workers."""
    init = getattr(loader, 'worker_init_fn', None)
    if getattr(loader, 'num_workers', 0) > 0 and not isinstance(
            init, DieWithParentInit):
        loader.worker_init_fn = DieWithParentInit(init)
    return loader


def guard_runner_loaders(runner) -> None:
    """Make every loader the runner builds (train, val, test, now or
    later) use die-with-parent workers."""
    build = runner.build_dataloader
    if getattr(build, '_guarded', False):
        return

    def build_guarded(*args, **kwargs):
        return guard_workers(build(*args, **kwargs))

    build_guarded._guarded = True
    runner.build_dataloader = build_guarded
