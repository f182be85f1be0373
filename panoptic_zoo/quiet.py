"""A short, readable console: library warnings, log filtering, versions.

- :func:`quiet_library_warnings` hides warnings that say nothing to a user
  of this project and repeat in every run (mmdet's ``avg_non_ignore``
  default notice, MMEngine's ``FileClient`` / ``HardDiskBackend``
  deprecations raised by mmdet's own loaders).
- :class:`ConsoleFilter` keeps the config dump, the environment block and
  the hook table in the log file only, and erases a progress bar before a
  log line is printed on a terminal.
- :func:`versions_line` names the versions of everything a run depends on.
"""
import logging
import re
import warnings

# (message regex, category) of the warnings hidden.
QUIET_WARNINGS = (
    (r'Default ``avg_non_ignore`` is False', UserWarning),
    (r'"FileClient" will be deprecated', DeprecationWarning),
    (r'"HardDiskBackend" is the alias of "LocalBackend"', DeprecationWarning),
    (r'"FileClient" will be deprecated', UserWarning),
    (r'"HardDiskBackend" is the alias of "LocalBackend"', UserWarning),
)

# Log messages that go to the log file but not to the console: the
# environment block, config dump, hook table, per-batch evaluation lines
# (the progress bar shows those; the metrics line is kept), and MMEngine's
# deprecation notices that mmdet's own loaders trigger.
FILE_ONLY = re.compile(
    r'^(Config:|Hooks will be executed in the following order|\n-{20}|'
    r'Distributed training is not used|'
    r'Iter\((val|test)\) \[\d+/\d+\]\s+eta:|'
    r'"FileClient" will be deprecated|'
    r'"HardDiskBackend" is the alias of "LocalBackend")')


def quiet_library_warnings() -> None:
    """Hide :data:`QUIET_WARNINGS` (idempotent)."""
    for message, category in QUIET_WARNINGS:
        warnings.filterwarnings('ignore', message=message, category=category)


class ConsoleFilter(logging.Filter):
    """For the console handler of a run's logger: drop :data:`FILE_ONLY`
    records and clear the progress bar before any other record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if FILE_ONLY.match(str(record.msg)):
            return False
        from .progress import clear_active
        clear_active()
        return True


def quiet_console(logger: logging.Logger) -> None:
    """Add :class:`ConsoleFilter` to ``logger``'s terminal handlers (not
    to its file handlers); idempotent."""
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler) or not isinstance(
                handler, logging.StreamHandler):
            continue
        if not any(isinstance(f, ConsoleFilter) for f in handler.filters):
            handler.addFilter(ConsoleFilter())


def versions_line() -> str:
    """``panoptic_zoo X, mmdet X, mmcv X, mmengine X, torch X (CUDA X);
    plugins: name X, ...``."""
    import importlib.metadata as metadata

    import torch

    import panoptic_zoo
    parts = [f'panoptic_zoo {panoptic_zoo.__version__}']
    for dist in ('mmdet', 'mmcv', 'mmengine'):
        try:
            parts.append(f'{dist} {metadata.version(dist)}')
        except metadata.PackageNotFoundError:
            parts.append(f'{dist} (not installed)')
    cuda = torch.version.cuda
    gpus = torch.cuda.device_count() if cuda else 0
    parts.append(f'torch {torch.__version__}' + (
        f' (CUDA {cuda}, {gpus} GPU{"s" * (gpus != 1)})' if cuda else
        ' (CPU build)'))
    from .plugins import plugin_records
    plugins = [
        f'{r.spec.distribution} {r.spec.version}' +
        ('' if r.status == 'loaded' else f' ({r.status})')
        for r in plugin_records()
    ]
    return ', '.join(parts) + '; plugins: ' + (', '.join(plugins) or 'none')
