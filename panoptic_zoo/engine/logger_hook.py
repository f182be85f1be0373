"""MMEngine's logger hook whose test metrics file is written once."""
import os.path as osp
from typing import Dict, Optional

from mmengine.dist import is_main_process
from mmengine.fileio import dump
from mmengine.hooks import LoggerHook as MMEngineLoggerHook

from panoptic_zoo.registry import HOOKS


@HOOKS.register_module()
class LoggerHook(MMEngineLoggerHook):
    """MMEngine's ``LoggerHook``, except that after a test only the main
    process writes ``<timestamp>.json``: MMEngine lets every rank write the
    same file, and under ``dist_test.sh`` their bytes interleaved into a
    line no JSON reader accepts. Every rank still logs."""

    def after_test_epoch(self,
                         runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        tag, log_str = runner.log_processor.get_log_after_epoch(
            runner, len(runner.test_dataloader), 'test', with_non_scalar=True)
        runner.logger.info(log_str)
        if is_main_process():
            dump(
                self._process_tags(tag),
                osp.join(runner.log_dir, self.json_log_path))
