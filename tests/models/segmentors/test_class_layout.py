"""Class numbers that disagree fail at build time, naming both places."""
import pytest
from mmengine.config import Config

from panoptic_zoo.engine.class_check_hook import dataset_metainfo
from panoptic_zoo.models.segmentors.class_layout import check_dataset_classes
from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing import config_path

SYNTHETIC = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


def _cfg():
    return Config.fromfile(config_path(SYNTHETIC))


def test_synthetic_model_matches_its_dataset():
    cfg = _cfg()
    model = MODELS.build(cfg.model)
    assert (model.num_things_classes, model.num_stuff_classes) == (4, 3)
    for split in ('train', 'val', 'test'):
        meta = dataset_metainfo(cfg[f'{split}_dataloader'].dataset)
        check_dataset_classes(model, meta, f'{split}_dataloader.dataset')
    assert model.semantic_head.num_classes == 3 + 1  # stuff + "things"


def test_heads_that_disagree_fail_at_build():
    cfg = _cfg()
    cfg.model.roi_head.bbox_head.num_classes = 80
    with pytest.raises(ValueError,
                       match=r'model\.roi_head\.bbox_head\.num_classes=80 '
                       r'but model\.panoptic_fusion_head\.num_things_'
                       r'classes=4'):
        MODELS.build(cfg.model)


def test_stuff_disagreement_fails_at_build():
    cfg = _cfg()
    # The fusion head's counts default to the semantic head's; stated, they
    # are checked against them.
    cfg.model.panoptic_fusion_head.num_stuff_classes = 3
    cfg.model.semantic_head.num_stuff_classes = 53
    with pytest.raises(ValueError,
                       match=r'semantic_head\.num_stuff_classes=53'):
        MODELS.build(cfg.model)


def test_model_dataset_disagreement_names_both():
    coco = Config.fromfile(
        config_path('panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py'))
    coco.model.backbone.init_cfg = None
    model = MODELS.build(coco.model)  # 80 + 53
    meta = dataset_metainfo(_cfg().train_dataloader.dataset)  # 4 + 3
    with pytest.raises(ValueError,
                       match=r'num_things_classes=80 but '
                       r'train_dataloader\.dataset has 4 thing classes'):
        check_dataset_classes(model, meta, 'train_dataloader.dataset')


def test_missing_panoptic_test_cfg_is_named():
    cfg = _cfg()
    del cfg.model.test_cfg['panoptic']
    with pytest.raises(KeyError, match=r'model\.test_cfg\.panoptic'):
        MODELS.build(cfg.model)
