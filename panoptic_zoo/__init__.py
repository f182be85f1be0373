"""panoptic_zoo: a modular plugin framework for panoptic segmentation.

Importing the package is cheap: components register themselves when a
registry first needs them (see :mod:`panoptic_zoo.registry`).
"""
__version__ = '0.1.0'

__all__ = ['__version__']
