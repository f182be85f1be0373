"""A progress bar over training iterations and evaluation batches."""
from mmengine.hooks import Hook
from mmengine.utils import ProgressBar

from panoptic_zoo.registry import HOOKS


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Show a progress bar (with ETA) for training and for each evaluation.

    The logger prints losses every ``interval`` iterations; this bar shows
    where the run is in between, on the main process only.
    """
    priority = 'LOW'

    def __init__(self) -> None:
        self._bar = None
        self._training = False

    def _start(self, runner, total: int) -> None:
        self._bar = ProgressBar(total) if runner.rank == 0 else None

    def _step(self) -> None:
        if self._bar is not None:
            self._bar.update()

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.file.write('\n')
            self._bar = None

    def before_train(self, runner) -> None:
        self._training = True
        self._start(runner, runner.max_iters - runner.iter)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._step()

    def after_train(self, runner) -> None:
        self._training = False
        self._finish()

    def before_val_epoch(self, runner) -> None:
        self._finish()  # a new line, so the training bar is not overwritten
        self._start(runner, len(runner.val_loop.dataloader))

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._step()

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._finish()
        if self._training and runner.iter < runner.max_iters:
            self._start(runner, runner.max_iters - runner.iter)

    def before_test_epoch(self, runner) -> None:
        self._start(runner, len(runner.test_loop.dataloader))

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._step()

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._finish()
