"""A progress bar over training iterations and evaluation batches."""
from mmengine.hooks import Hook

from panoptic_zoo.progress import Progress
from panoptic_zoo.registry import HOOKS


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Show a progress bar (with ETA) for training and for each evaluation.

    The logger prints losses every ``interval`` iterations; this bar shows
    where the run is in between, on the main process only. On a terminal
    it is redrawn in place; in a file it is a full line every tenth of the
    work (:class:`panoptic_zoo.progress.Progress`), for evaluations only.
    """
    priority = 'LOW'

    def __init__(self) -> None:
        self._bar = None
        self._training = self._tty = False

    def _start(self, runner, total: int, desc: str) -> None:
        self._finish()
        self._bar = Progress(total, desc) if runner.rank == 0 else None

    def _step(self) -> None:
        if self._bar is not None:
            self._bar.update()

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _train_bar(self, runner) -> None:
        # In a file, the logger's loss lines (with their eta) already show
        # the training's progress: a bar there would only repeat them.
        if self._tty:
            self._start(runner, runner.max_iters - runner.iter, 'train')

    def before_train(self, runner) -> None:
        import sys
        self._tty = sys.stdout.isatty()
        self._training = True
        self._train_bar(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._step()

    def after_train(self, runner) -> None:
        self._training = False
        self._finish()

    def before_val_epoch(self, runner) -> None:
        self._start(runner, len(runner.val_loop.dataloader), 'val')

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._step()

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._finish()
        if self._training and runner.iter < runner.max_iters:
            self._train_bar(runner)

    def before_test_epoch(self, runner) -> None:
        self._start(runner, len(runner.test_loop.dataloader), 'test')

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._step()

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._finish()
