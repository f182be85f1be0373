"""Make a resumed run repeat the uninterrupted one bit for bit.

MMEngine's resume restores weights, optimizer, schedulers, the message hub
and the iteration, and re-reads the first ``iter`` batches so the sampler is
where it was. What it misses are the global random generators: a resumed
run draws different augmentations and RoI samples from its first
iteration on. This hook

* stores every generator's state in each checkpoint (``rng_state``), as it
  is when the next iteration would draw its batch;
* on resume, puts the states back after the loop has re-read the skipped
  batches (that re-reading consumes random numbers in a single-process
  loader) and before the first new batch is drawn;
* runs validation with the generators isolated, so an evaluation (whose
  loader draws a seed) does not shift training randomness: the state saved
  before a validation is the state training continues from;
* stores the message hub as plain tensors and Python values so the file
  loads with ``torch.load(weights_only=True)`` and no allow-list.

Loader workers seed themselves from the run's seed (MMEngine's
``worker_init_fn``) and the re-read batches advance their generators as in
the first run, so the data is also identical with ``num_workers > 0``.
"""
import logging
import functools

from mmengine.hooks import Hook
from mmengine.logging import print_log

from panoptic_zoo.registry import HOOKS
from .plain_checkpoint import from_plain, to_plain
from .rng_state import capture_rng_state, restore_rng_state


class _RestoreAfterSkip:
    """Wrap the loop's data iterator: after ``skip`` batches, restore the
    generators, then hand the plain iterator back to the loop."""

    def __init__(self, loop, skip: int, state: dict):
        self._loop, self._skip, self._state = loop, skip, state
        self._inner = loop.dataloader_iterator

    def __iter__(self):
        return self

    def __next__(self):
        if self._skip == 0:
            restore_rng_state(self._state)
            self._loop.dataloader_iterator = self._inner
        self._skip -= 1
        return next(self._inner)


@HOOKS.register_module()
class ResumeStateHook(Hook):
    """Save and restore the random state that exact resume needs."""

    # Runs first, so every later hook's before_save_checkpoint sees plain
    # values, and its before_train wraps the iterator before anyone reads it.
    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending = None  # generator states waiting to be restored
        self._outer_state = None  # state training resumes at, during val

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # A save from inside validation (best checkpoint) records the state
        # training continues from, not the one validation is using.
        checkpoint['rng_state'] = (
            self._outer_state
            if self._outer_state is not None else capture_rng_state())
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = to_plain(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = from_plain(checkpoint[key])
        if not getattr(runner, '_resume', False):
            return  # load_from: weights only, fresh randomness
        self._pending = checkpoint.get('rng_state')
        if self._pending is None:
            print_log(
                'the checkpoint holds no random-generator state (saved '
                'without ResumeStateHook): training continues, but not '
                'bit-identical to an uninterrupted run',
                logger='current',
                level=logging.WARNING)

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        if self._pending is not None:
            if hasattr(loop, 'dataloader_iterator'):
                # An iteration loop re-reads ``loop.iter`` batches first.
                loop.dataloader_iterator = _RestoreAfterSkip(
                    loop, loop.iter, self._pending)
            else:  # an epoch loop resumes at an epoch's start
                restore_rng_state(self._pending)
            self._pending = None
        val_loop = runner.val_loop
        if val_loop is not None and not hasattr(val_loop.run, '_isolated'):
            val_loop.run = self._isolated(val_loop.run)

    def _isolated(self, run):

        @functools.wraps(run)
        def wrapper(*args, **kwargs):
            self._outer_state = capture_rng_state()
            try:
                return run(*args, **kwargs)
            finally:
                restore_rng_state(self._outer_state)
                self._outer_state = None

        wrapper._isolated = True
        return wrapper
