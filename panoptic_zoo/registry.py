"""Registries of panoptic_zoo: children of MMDetection's, scope
``panoptic_zoo``.

A config with ``default_scope='panoptic_zoo'`` resolves a ``type`` first in
our registry and then in mmdet's and MMEngine's, so our parts and every mmdet
part build from one config. ``locations`` lists the packages whose import
registers our parts; each of them also imports the matching mmdet package,
because a child registry looks into its parent's table without triggering
the parent's own lazy imports.

Every mmdet registry node has a child here, so a runner built under our scope
finds loops, optimizers, schedulers, ... without falling back with warnings.
"""
from mmdet import registry as mmdet_registry
from mmengine.registry import Registry

from .zoo_configs import SCOPE, enable_package_scope

# Configs may inherit zoo configs by `panoptic_zoo::` path from here on.
enable_package_scope()


def _child(name: str, location: str = None) -> Registry:
    parent = getattr(mmdet_registry, name)
    return Registry(
        parent.name,
        parent=parent,
        scope=SCOPE,
        locations=[f'panoptic_zoo.{location}'] if location else [])


# The seven our parts register into.
MODELS = _child('MODELS', 'models')
DATASETS = _child('DATASETS', 'datasets')
TRANSFORMS = _child('TRANSFORMS', 'datasets')
METRICS = _child('METRICS', 'evaluation')
HOOKS = _child('HOOKS', 'engine')
VISUALIZERS = _child('VISUALIZERS', 'visualization')
# Samplers (models/task_modules); mmdet's heads build them from here.
TASK_UTILS = _child('TASK_UTILS', 'models')
# The rest of mmdet's nodes, so the whole scope resolves.
RUNNERS = _child('RUNNERS')
RUNNER_CONSTRUCTORS = _child('RUNNER_CONSTRUCTORS')
LOOPS = _child('LOOPS')
DATA_SAMPLERS = _child('DATA_SAMPLERS')
MODEL_WRAPPERS = _child('MODEL_WRAPPERS')
WEIGHT_INITIALIZERS = _child('WEIGHT_INITIALIZERS')
OPTIMIZERS = _child('OPTIMIZERS')
OPTIM_WRAPPERS = _child('OPTIM_WRAPPERS')
OPTIM_WRAPPER_CONSTRUCTORS = _child('OPTIM_WRAPPER_CONSTRUCTORS')
PARAM_SCHEDULERS = _child('PARAM_SCHEDULERS')
EVALUATOR = _child('EVALUATOR')
VISBACKENDS = _child('VISBACKENDS')
LOG_PROCESSORS = _child('LOG_PROCESSORS')
