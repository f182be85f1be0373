"""MMEngine's CheckpointHook with crash-safe files.

Differences from the parent, all about what a kill at any moment leaves:

* every save of the runner (periodic, best, any other hook's) goes to a
  temporary file that is fsynced and renamed into place;
* ``last_checkpoint`` is rewritten atomically after the checkpoint is in
  place, and holds its path relative to the work dir;
* with ``max_keep_ckpts``, old checkpoints are deleted only after the new one
  is safely on disk (the parent deletes first, so a crash during the save
  could leave no checkpoint at all).
"""
import functools
import os.path as osp
from collections import deque

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from panoptic_zoo.registry import HOOKS
from .checkpoint_files import (LAST_CHECKPOINT, commit,
                               remove_stale_temporaries, temporary_name,
                               write_text_atomic)


def _is_local(path: str) -> bool:
    return '://' not in str(path)


def make_saves_atomic(runner) -> None:
    """Route ``runner.save_checkpoint`` through a temporary file (once)."""
    save = runner.save_checkpoint
    if getattr(save, '_atomic', False):
        return

    @functools.wraps(save)
    def atomic_save(out_dir, filename, *args, **kwargs):
        if not _is_local(out_dir) or kwargs.get('backend_args'):
            return save(out_dir, filename, *args, **kwargs)
        tmp = temporary_name(filename)
        save(out_dir, tmp, *args, **kwargs)
        if is_main_process():  # other ranks write nothing
            commit(osp.join(out_dir, tmp), osp.join(out_dir, filename))

    atomic_save._atomic = True
    runner.save_checkpoint = atomic_save


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same arguments) whose files survive a kill."""

    def before_train(self, runner) -> None:
        super().before_train(runner)
        make_saves_atomic(runner)
        if is_main_process() and _is_local(self.out_dir):
            remove_stale_temporaries(self.out_dir)

    def _save_checkpoint_with_step(self, runner, step, meta):
        keep = self.max_keep_ckpts
        if keep > 0:
            # The parent drops the oldest file before saving. Here the new
            # step is recorded first (the checkpoint carries the list) and
            # old files go once the new one is in place.
            self.keep_ckpt_ids = deque(self.keep_ckpt_ids)  # no maxlen
            if not self.keep_ckpt_ids or self.keep_ckpt_ids[-1] != step:
                self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if is_main_process():
            record = self.last_ckpt
            if _is_local(record):
                record = osp.relpath(record, runner.work_dir)
            write_text_atomic(
                osp.join(runner.work_dir, LAST_CHECKPOINT), record)
        if keep > 0:
            self._drop_old(runner, keep)

    def _drop_old(self, runner, keep):
        while len(self.keep_ckpt_ids) > keep:
            old = self.keep_ckpt_ids.popleft()
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(old))
            if is_main_process() and self.file_backend.isfile(path):
                self.file_backend.remove(path)
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(self.keep_ckpt_ids))
