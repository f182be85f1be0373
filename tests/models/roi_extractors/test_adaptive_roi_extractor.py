"""AdaptiveRoIExtractor pools every RoI on every level; fused by max (or
sum) after a per-level layer, it equals the levels computed one by one."""
import pytest
import torch
from mmcv.cnn import ConvModule
from mmcv.ops import RoIAlign

from panoptic_zoo.models.roi_extractors import AdaptiveRoIExtractor
from panoptic_zoo.models.layers import PerLevelFusion
from panoptic_zoo.registry import MODELS

STRIDES = [4, 8, 16, 32]
C = 8
ROI_LAYER = dict(
    type='RoIAlign', output_size=7, sampling_ratio=2, aligned=False)


def _feats(seed=0, size=64, batch=2, requires_grad=False):
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.randn(batch, C, size // s, size // s,
                    generator=gen).requires_grad_(requires_grad)
        for s in STRIDES
    ]


def _rois():
    # (batch_index, x1, y1, x2, y2): small, large, one on each image.
    return torch.tensor([[0, 2., 3., 20., 17.], [0, 5., 1., 60., 62.],
                         [1, 10., 12., 41., 30.], [1, 0., 0., 64., 64.],
                         [1, 30.5, 7.25, 33., 12.]])


def _extractor(**overrides):
    cfg = dict(
        roi_layer=dict(ROI_LAYER), out_channels=C, featmap_strides=STRIDES)
    cfg.update(overrides)
    return AdaptiveRoIExtractor(**cfg)


def _one_level(feats, rois, level, roi_layer=ROI_LAYER):
    """mmcv RoIAlign of ``rois`` on level ``level`` alone."""
    cfg = dict(roi_layer)
    cfg.pop('type')
    return RoIAlign(
        spatial_scale=1. / STRIDES[level], **cfg)(feats[level], rois)


def test_every_roi_pooled_on_every_level():
    feats, rois = _feats(), _rois()
    out = _extractor()(feats, rois)
    assert out.shape == (5, 4, C, 7, 7)  # (N, L, C, h, w), RoI-major
    for level in range(4):
        torch.testing.assert_close(out[:, level],
                                   _one_level(feats, rois, level))


def test_aligned_option_is_passed_to_every_level():
    feats, rois = _feats(), _rois()
    aligned = dict(ROI_LAYER, aligned=True, sampling_ratio=0)
    out = _extractor(roi_layer=aligned)(feats, rois)
    for level in range(4):
        torch.testing.assert_close(out[:, level],
                                   _one_level(feats, rois, level, aligned))
    assert not torch.allclose(out, _extractor()(feats, rois))


@pytest.mark.parametrize('fusion', ['max', 'sum'])
def test_fusion_equals_levels_computed_one_by_one(fusion):
    """PANet's adaptive pooling: conv_l(RoIAlign_l(x_l)) fused over l."""
    torch.manual_seed(0)
    feats, rois = _feats(), _rois()
    conv = ConvModule(
        C, 6, 3, padding=1, norm_cfg=dict(type='GN', num_groups=2))
    fuse = PerLevelFusion.from_layer(conv, 4, fusion=fusion)
    out = fuse(_extractor()(feats, rois))

    per_level = [
        fuse.layers[level](_one_level(feats, rois, level))
        for level in range(4)
    ]
    stacked = torch.stack(per_level)  # (L, N, 6, 7, 7)
    expected = stacked.max(0).values if fusion == 'max' else stacked.sum(0)
    torch.testing.assert_close(out, expected)
    assert out.shape == (5, 6, 7, 7)
    if fusion == 'max':
        # Every level wins somewhere: the fusion really mixes levels.
        winner = stacked.argmax(0)
        assert set(winner.unique().tolist()) == {0, 1, 2, 3}


def test_gradients_reach_every_level():
    torch.manual_seed(0)
    feats, rois = _feats(requires_grad=True), _rois()
    conv = ConvModule(C, 6, 3, padding=1)
    fuse = PerLevelFusion.from_layer(conv, 4, fusion='max')
    fuse(_extractor()(feats, rois)).sum().backward()
    for level, x in enumerate(feats):
        assert x.grad.abs().sum() > 0, level
    for level, layer in enumerate(fuse.layers):
        assert layer.conv.weight.grad.abs().sum() > 0, level


def test_roi_scale_factor():
    feats, rois = _feats(), _rois()
    ext = _extractor()
    scaled = ext.roi_rescale(rois, 1.5)
    torch.testing.assert_close(
        ext(feats, rois, roi_scale_factor=1.5), ext(feats, scaled))


def test_empty_rois():
    feats = _feats()
    out = _extractor()(feats, torch.zeros(0, 5))
    assert out.shape == (0, 4, C, 7, 7)


def test_builds_from_registry_and_keeps_config():
    cfg = dict(
        type='AdaptiveRoIExtractor',
        roi_layer=dict(ROI_LAYER),
        out_channels=C,
        featmap_strides=STRIDES)
    before = repr(cfg)
    ext = MODELS.build(cfg)
    assert isinstance(ext, AdaptiveRoIExtractor) and ext.num_inputs == 4
    assert repr(cfg) == before


def test_bad_inputs_and_configs_raise():
    ext = _extractor()
    with pytest.raises(ValueError, match='got 3 feature levels, expected 4'):
        ext(_feats()[:3], _rois())
    with pytest.raises(ValueError, match='out_channels=16 but the features'):
        _extractor(out_channels=16)(_feats(), _rois())
    with pytest.raises(ValueError, match='featmap_strides must list'):
        _extractor(featmap_strides=[])
    with pytest.raises(TypeError, match='finest_scale'):
        MODELS.build(
            dict(
                type='AdaptiveRoIExtractor',
                roi_layer=dict(ROI_LAYER),
                out_channels=C,
                featmap_strides=STRIDES,
                finest_scale=56))
