"""Helpers for tests: config paths, shrunken configs, tiny datasets."""
from .configs import REPO_ROOT, config_path, tiny_synthetic_config

__all__ = ['REPO_ROOT', 'config_path', 'tiny_synthetic_config']
