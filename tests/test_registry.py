"""One config resolves our parts and every mmdet part."""
import pytest
from mmdet.datasets import CocoPanopticDataset
from mmdet.models.backbones import ResNet
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import init_default_scope

from panoptic_zoo.datasets import SyntheticPanopticDataset
from panoptic_zoo.engine import ClassCheckHook
from panoptic_zoo.models import PanopticSegmentor
from panoptic_zoo.registry import (DATASETS, HOOKS, METRICS, MODELS,
                                   TRANSFORMS, VISUALIZERS)


def test_registries_are_children_of_mmdet():
    for registry in (MODELS, DATASETS, TRANSFORMS, METRICS, HOOKS,
                     VISUALIZERS):
        assert registry.scope == 'panoptic_zoo'
        assert registry.parent.scope == 'mmdet'


def test_ours_and_mmdets_from_one_scope():
    assert MODELS.get('PanopticSegmentor') is PanopticSegmentor
    assert MODELS.get('ResNet') is ResNet
    assert MODELS.get('mmdet.ResNet') is ResNet
    assert DATASETS.get('SyntheticPanopticDataset') is SyntheticPanopticDataset
    # Ours (strict loading) under mmdet's name, a subclass of mmdet's.
    assert issubclass(DATASETS.get('CocoPanopticDataset'), CocoPanopticDataset)
    assert DATASETS.get('mmdet.CocoPanopticDataset') is CocoPanopticDataset
    assert HOOKS.get('ClassCheckHook') is ClassCheckHook
    assert METRICS.get('CocoPanopticMetric').__name__ == 'CocoPanopticMetric'
    assert TRANSFORMS.get('LoadPanopticAnnotations') is not None
    # Our names stay ours: mmdet's registry does not see them.
    assert MMDET_MODELS.get('PanopticSegmentor') is None


def test_root_registry_builds_under_default_scope():
    init_default_scope('panoptic_zoo')
    backbone = ROOT_MODELS.build(dict(type='ResNet', depth=18, init_cfg=None))
    assert isinstance(backbone, ResNet)
    with pytest.raises(KeyError, match='NoSuchNeck'):
        MODELS.build(dict(type='NoSuchNeck'))
