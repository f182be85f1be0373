"""MMEngine's runner with a short console log.

The log file keeps everything MMEngine writes; the console leaves out the
environment block, the config dump and the hook table
(:class:`panoptic_zoo.quiet.ConsoleFilter`) and starts with one line of
versions, so a run's log says what code produced it.
"""
from mmengine.runner import Runner

from panoptic_zoo.quiet import quiet_console, versions_line


class QuietRunner(Runner):
    """:class:`mmengine.runner.Runner` whose console log is short."""

    def build_logger(self, *args, **kwargs):
        logger = super().build_logger(*args, **kwargs)
        quiet_console(logger)
        logger.info(versions_line())
        return logger
