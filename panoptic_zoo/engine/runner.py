"""MMEngine's runner with a short console log.

The log file keeps everything MMEngine writes; the console leaves out the
environment block, the config dump and the hook table
(:class:`panoptic_zoo.quiet.ConsoleFilter`) and starts with one line of
versions, so a run's log says what code produced it.
"""
import contextlib
import io
import sys

from mmengine.runner import Runner

from panoptic_zoo.quiet import quiet_console, versions_line

# What pycocotools prints each time mmdet's COCO panoptic dataset loads.
_COCO_CHATTER = ('loading annotations into memory...', 'creating index...',
                 'index created!')


class QuietRunner(Runner):
    """:class:`mmengine.runner.Runner` whose console log is short."""

    def build_logger(self, *args, **kwargs):
        logger = super().build_logger(*args, **kwargs)
        quiet_console(logger)
        logger.info(versions_line())
        return logger

    @staticmethod
    def build_dataloader(*args, **kwargs):
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                return Runner.build_dataloader(*args, **kwargs)
        finally:
            for line in out.getvalue().splitlines(keepends=True):
                if not (line.strip() in _COCO_CHATTER
                        or line.startswith('Done (t=')):
                    sys.stdout.write(line)
