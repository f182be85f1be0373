"""Registries of panoptic_zoo: children of MMDetection's, scope
``panoptic_zoo``.

A config with ``default_scope='panoptic_zoo'`` resolves a ``type`` first in
our registry and then in mmdet's and MMEngine's, so our parts and every mmdet
part build from one config. ``locations`` lists the packages whose import
registers our parts; each of them also imports the matching mmdet package,
because a child registry looks into its parent's table without triggering
the parent's own lazy imports.
"""
from mmdet.registry import DATASETS as MMDET_DATASETS
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmdet.registry import METRICS as MMDET_METRICS
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.registry import TRANSFORMS as MMDET_TRANSFORMS
from mmdet.registry import VISUALIZERS as MMDET_VISUALIZERS
from mmengine.registry import Registry

SCOPE = 'panoptic_zoo'

MODELS = Registry(
    'model',
    parent=MMDET_MODELS,
    scope=SCOPE,
    locations=['panoptic_zoo.models'])
DATASETS = Registry(
    'dataset',
    parent=MMDET_DATASETS,
    scope=SCOPE,
    locations=['panoptic_zoo.datasets'])
TRANSFORMS = Registry(
    'transform',
    parent=MMDET_TRANSFORMS,
    scope=SCOPE,
    locations=['panoptic_zoo.datasets'])
METRICS = Registry(
    'metric',
    parent=MMDET_METRICS,
    scope=SCOPE,
    locations=['panoptic_zoo.evaluation'])
HOOKS = Registry(
    'hook', parent=MMDET_HOOKS, scope=SCOPE, locations=['panoptic_zoo.engine'])
VISUALIZERS = Registry(
    'visualizer',
    parent=MMDET_VISUALIZERS,
    scope=SCOPE,
    locations=['panoptic_zoo.visualization'])
