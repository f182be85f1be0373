"""AdaptiveConvFCBBoxHead: conv1 (4conv1fc) or fc6 (2fc) per level, fused,
then mmdet's ConvFCBBoxHead."""
import pytest
import torch
from mmdet.models.roi_heads.bbox_heads import ConvFCBBoxHead

from panoptic_zoo.models.bbox_heads import AdaptiveConvFCBBoxHead
from panoptic_zoo.registry import MODELS

C, K, L = 8, 3, 4
GN = dict(type='GN', num_groups=2, requires_grad=True)


def _4conv1fc(**overrides):
    cfg = dict(
        num_levels=L,
        num_shared_convs=4,
        num_shared_fcs=1,
        in_channels=C,
        conv_out_channels=C,
        fc_out_channels=16,
        roi_feat_size=7,
        num_classes=K,
        norm_cfg=GN)
    cfg.update(overrides)
    return AdaptiveConvFCBBoxHead(**cfg)


def _2fc(**overrides):
    cfg = dict(
        num_levels=L,
        num_shared_fcs=2,
        in_channels=C,
        fc_out_channels=16,
        roi_feat_size=7,
        num_classes=K)
    cfg.update(overrides)
    return AdaptiveConvFCBBoxHead(**cfg)


def _randomise(head, seed=1):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in head.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    return head


def _x(n=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, L, C, 7, 7, generator=gen)


@pytest.mark.parametrize('fusion', ['max', 'sum'])
def test_4conv1fc_equals_hand_built(fusion):
    head = _randomise(_4conv1fc(fusion=fusion)).eval()
    x = _x()
    per_level = torch.stack(
        [head.level_fusion.layers[lvl](x[:, lvl]) for lvl in range(L)])
    y = per_level.amax(0) if fusion == 'max' else per_level.sum(0)
    assert len(head.shared_convs) == 3  # conv2..conv4 stay shared
    for conv in head.shared_convs:
        y = conv(y)
    y = head.shared_fcs[0](y.flatten(1)).relu()
    cls_score, bbox_pred = head(x)
    torch.testing.assert_close(cls_score, head.fc_cls(y))
    torch.testing.assert_close(bbox_pred, head.fc_reg(y))
    assert cls_score.shape == (5, K + 1) and bbox_pred.shape == (5, 4 * K)


def test_2fc_has_per_level_fc6_with_relu_before_max():
    head = _randomise(_2fc()).eval()
    assert head.per_level_layer == 'fc' and len(head.shared_fcs) == 1
    x = _x()
    fc6 = torch.stack([
        head.level_fusion.layers[lvl](x[:, lvl].flatten(1)).relu()
        for lvl in range(L)
    ]).amax(0)
    y = head.shared_fcs[0](fc6).relu()  # fc7, shared
    cls_score, bbox_pred = head(x)
    torch.testing.assert_close(cls_score, head.fc_cls(y))
    torch.testing.assert_close(bbox_pred, head.fc_reg(y))


def test_rest_of_head_is_mmdet_convfc():
    """Fed the fused feature, mmdet's own head with the same weights gives
    the same scores: only the first layer changed."""
    ours = _randomise(_4conv1fc()).eval()
    ref = ConvFCBBoxHead(
        num_shared_convs=3,
        num_shared_fcs=1,
        in_channels=C,
        conv_out_channels=C,
        fc_out_channels=16,
        roi_feat_size=7,
        num_classes=K,
        norm_cfg=GN).eval()
    state = {
        k: v
        for k, v in ours.state_dict().items()
        if not k.startswith('level_fusion.')
    }
    ref.load_state_dict(state, strict=True)
    x = _x()
    fused = ours.level_fusion(x)
    for a, b in zip(ours(x), ref(fused)):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize('build', [_4conv1fc, _2fc])
def test_gradients_reach_every_level(build):
    head = build()
    x = _x().requires_grad_()
    cls_score, bbox_pred = head(x)
    gen = torch.Generator().manual_seed(3)
    (cls_score * torch.randn(cls_score.shape, generator=gen)).sum().add(
        bbox_pred.sum()).backward()
    for lvl in range(L):
        assert x.grad[:, lvl].abs().sum() > 0, lvl
        params = list(head.level_fusion.layers[lvl].parameters())
        assert all(p.grad is not None and p.grad.abs().sum() > 0
                   for p in params), lvl


@pytest.mark.parametrize('build', [_4conv1fc, _2fc])
def test_empty_input(build):
    cls_score, bbox_pred = build()(torch.zeros(0, L, C, 7, 7))
    assert cls_score.shape == (0, K + 1) and bbox_pred.shape == (0, 4 * K)


def test_init_weights():
    head = _2fc()
    head.init_weights()  # Xavier on the per-level fc6 as on shared fcs
    assert all(layer.bias.abs().sum() == 0
               for layer in head.level_fusion.layers)
    _4conv1fc().init_weights()


def test_bad_configs_and_inputs_raise():
    with pytest.raises(ValueError, match='needs a shared first layer'):
        AdaptiveConvFCBBoxHead(
            num_cls_fcs=1, num_reg_fcs=1, in_channels=C, num_classes=K)
    with pytest.raises(ValueError, match='with_avg_pool=True'):
        _2fc(with_avg_pool=True)
    with pytest.raises(ValueError, match='fusion=.mean. is not supported'):
        _4conv1fc(fusion='mean')
    with pytest.raises(TypeError, match='num_shared_fc'):
        MODELS.build(
            dict(
                type='AdaptiveConvFCBBoxHead',
                num_shared_fc=2,
                in_channels=C,
                num_classes=K))
    with pytest.raises(ValueError, match=r'expects \(N, L, C, h, w\)'):
        _4conv1fc()(torch.zeros(2, C, 7, 7))
    with pytest.raises(ValueError, match=r'expected \(N, L=4'):
        _4conv1fc()(torch.zeros(2, 3, C, 7, 7))


def test_test_time_nms_is_the_exact_top_k_one():
    """Predictions equal mmdet's path (its per-class NMS loop over 100
    classes x 150 RoIs > split_thr candidates) with one nms call."""
    from mmengine.config import ConfigDict

    from panoptic_zoo.testing.nms_calls import counting_nms_calls
    head = _randomise(_2fc(num_classes=100), seed=3).eval()
    gen = torch.Generator().manual_seed(4)
    xy = torch.rand(150, 2, generator=gen) * 200
    rois = torch.cat([torch.zeros(150, 1), xy, xy + 20 + 30 * torch.rand(
        150, 2, generator=gen)], dim=1)
    with torch.no_grad():
        cls_score, bbox_pred = head(_x(150, seed=5))
    cfg = ConfigDict(
        score_thr=0.0,
        nms=dict(type='nms', iou_threshold=0.5, class_agnostic=True),
        max_per_img=50)
    meta = dict(img_shape=(256, 256))
    with counting_nms_calls() as ours_calls:
        ours = head._predict_by_feat_single(rois, cls_score, bbox_pred, meta,
                                            False, cfg)
    with counting_nms_calls() as mmdet_calls:
        ref = ConvFCBBoxHead._predict_by_feat_single(head, rois, cls_score,
                                                     bbox_pred, meta, False,
                                                     cfg)
    assert (len(ours_calls), len(mmdet_calls)) == (0, 100)
    assert len(ref) == 50
    for key in ('bboxes', 'scores', 'labels'):
        assert torch.equal(ours.get(key), ref.get(key)), key
