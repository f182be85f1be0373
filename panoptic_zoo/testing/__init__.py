"""Helpers for tests: config paths, shrunken configs, tiny datasets, a
host-sync counter."""
from .configs import REPO_ROOT, config_path, tiny_synthetic_config
from panoptic_zoo.benchmark.sync_counter import HostSyncCounter

__all__ = [
    'REPO_ROOT', 'config_path', 'tiny_synthetic_config', 'HostSyncCounter'
]
