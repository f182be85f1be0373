"""Widths and strides a config leaves out flow from the neck
(``wiring.READS``); stated ones win and are still checked."""
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from panoptic_zoo.models.segmentors.wiring import READS, fill_from_neck
from panoptic_zoo.registry import MODELS, SCOPE
from panoptic_zoo.testing import config_path

AUNET = 'aunet/aunet_r18-tiny_fpn_2k_synthetic.py'


def _model(width=None):
    model = Config.fromfile(config_path(AUNET)).model
    model.backbone.init_cfg = None
    if width is not None:
        model.neck.out_channels = width
    return model


def _build(model):
    with DefaultScope.overwrite_default_scope(SCOPE):
        return MODELS.build(model)


def test_fill_gives_every_declared_width_from_the_neck():
    with DefaultScope.overwrite_default_scope(SCOPE):
        filled = fill_from_neck(_model(width=40).to_dict())
    roi = filled['roi_head']
    assert filled['rpn_head']['in_channels'] == 40
    assert filled['rpn_head']['feat_channels'] == 40
    for key in ('bbox_roi_extractor', 'mask_roi_extractor'):
        assert roi[key]['out_channels'] == 40
        # FPN's fifth level is max-pooled for the RPN: RoIs pool from 4.
        assert roi[key]['featmap_strides'] == [4, 8, 16, 32]
    for key in ('bbox_head', 'mask_head'):
        assert roi[key]['in_channels'] == 40
        assert roi[key]['conv_out_channels'] == 40
    assert filled['semantic_head']['in_channels'] == 40
    pam, mam = filled['attention']
    assert (pam['bg_channels'], pam['rpn_channels']) == (40, 40)
    assert 'strides' not in pam  # PAM takes no strides
    assert (mam['bg_channels'], mam['strides']) == (40, (4, 8, 16, 32))


def test_a_neck_of_another_width_builds_every_head_at_it():
    model = _build(_model(width=24))
    assert model.rpn_head.rpn_conv.in_channels == 24
    assert model.roi_head.bbox_head.shared_convs[0].conv.in_channels == 24
    assert model.roi_head.mask_head.convs[0].conv.in_channels == 24
    assert model.attention[0].bg_channels == 24
    assert model.attention[0].rpn_channels == 24
    assert model.attention[1].bg_channels == 24


def test_stated_values_win():
    model = _model(width=24)
    model.rpn_head.feat_channels = 16
    model.roi_head.mask_head.conv_out_channels = 8
    with DefaultScope.overwrite_default_scope(SCOPE):
        filled = fill_from_neck(model.to_dict())
    assert filled['rpn_head']['feat_channels'] == 16
    assert filled['attention'][0]['rpn_channels'] == 16  # PAM reads it
    assert filled['roi_head']['mask_head']['conv_out_channels'] == 8


def test_a_stated_width_that_disagrees_still_fails_naming_both_keys():
    model = _model(width=24)
    model.roi_head.mask_head.in_channels = 32
    with pytest.raises(
            ValueError,
            match=r'model\.roi_head\.mask_head \(FCNMaskHead, '
            r'in_channels=32\) reads 32-channel features, but model\.neck '
            r'\(FPN, num_outs=5, out_channels=24\) gives 24'):
        _build(model)


def test_every_declared_slot_names_a_config_key_of_the_segmentor():
    keys = {
        'rpn_head', 'roi_head', 'semantic_head', 'attention[*]',
        'panoptic_fusion_head'
    }
    assert {r.slot.split('.')[0] for r in READS} == keys
