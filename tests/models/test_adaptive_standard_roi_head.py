"""mmdet's StandardRoIHead drives the adaptive extractor + heads unchanged:
loss, predict, empty GT and empty proposals; ordinary parts still mix."""
import copy

import pytest
import torch
from mmdet.testing import demo_mm_inputs, demo_mm_proposals
from mmengine.config import ConfigDict

from panoptic_zoo.registry import MODELS

C, K = 8, 3
GN = dict(type='GN', num_groups=2, requires_grad=True)
STRIDES = [4, 8, 16, 32]
SIZE = 64


def _roi_head_cfg(adaptive_mask=True):
    roi_layer = dict(type='RoIAlign', sampling_ratio=2, aligned=False)
    mask_extractor = dict(
        type='AdaptiveRoIExtractor' if adaptive_mask else 'SingleRoIExtractor',
        roi_layer=dict(roi_layer, output_size=14),
        out_channels=C,
        featmap_strides=STRIDES)
    return ConfigDict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(
            type='AdaptiveRoIExtractor',
            roi_layer=dict(roi_layer, output_size=7),
            out_channels=C,
            featmap_strides=STRIDES),
        bbox_head=dict(
            type='AdaptiveConvFCBBoxHead',
            num_shared_convs=4,
            num_shared_fcs=1,
            in_channels=C,
            conv_out_channels=C,
            fc_out_channels=16,
            roi_feat_size=7,
            num_classes=K,
            norm_cfg=GN),
        mask_roi_extractor=mask_extractor,
        mask_head=dict(
            type='FCFusionMaskHead',
            num_levels=4 if adaptive_mask else None,
            in_channels=C,
            conv_out_channels=C,
            num_classes=K,
            fc_conv_channels=(C, C // 2),
            norm_cfg=GN),
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=64,
                pos_fraction=0.25,
                neg_pos_ub=-1,
                add_gt_as_proposals=True),
            mask_size=28,
            pos_weight=-1,
            debug=False),
        test_cfg=dict(
            score_thr=0.0,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=20,
            mask_thr_binary=0.5))


def _feats(requires_grad=False):
    gen = torch.Generator().manual_seed(0)
    return tuple(
        torch.randn(2, C, SIZE // s, SIZE //
                    s, generator=gen).requires_grad_(requires_grad)
        for s in STRIDES)


def _data(num_items):
    return demo_mm_inputs(
        batch_size=2,
        image_shapes=[(3, SIZE, SIZE)] * 2,
        num_items=num_items,
        num_classes=K,
        with_mask=True)['data_samples']


def _proposals(num=30):
    return demo_mm_proposals([(3, SIZE, SIZE)] * 2, num)


@pytest.mark.parametrize('adaptive_mask', [True, False])
def test_loss_reaches_every_level(adaptive_mask):
    torch.manual_seed(0)
    cfg = _roi_head_cfg(adaptive_mask)
    before = repr(cfg)
    roi_head = MODELS.build(cfg)
    assert repr(cfg) == before
    feats = _feats(requires_grad=True)
    losses = roi_head.loss(feats, _proposals(), _data([3, 4]))
    assert set(losses) >= {'loss_cls', 'loss_bbox', 'loss_mask'}
    total = sum(v for k, v in losses.items() if k.startswith('loss_'))
    assert torch.isfinite(total) and losses['loss_mask'] > 0
    total.backward()
    for level, x in enumerate(feats):
        assert x.grad.abs().sum() > 0, level


def test_loss_without_gt_instances():
    torch.manual_seed(0)
    roi_head = MODELS.build(_roi_head_cfg())
    losses = roi_head.loss(_feats(), _proposals(), _data([0, 0]))
    assert losses['loss_mask'] == 0 and losses['loss_bbox'] == 0
    assert torch.isfinite(losses['loss_cls']) and losses['loss_cls'] > 0


def test_predict_and_empty_proposals():
    torch.manual_seed(0)
    roi_head = MODELS.build(_roi_head_cfg()).eval()
    samples = _data([2, 2])
    results = roi_head.predict(_feats(), _proposals(), samples, rescale=False)
    assert len(results) == 2
    for res in results:
        assert 0 < len(res) <= 20
        # demo metas have scale_factor (1.1, 1.2): masks at the input size
        assert res.masks.shape == (len(res), 77, 70)
    empty = [p[:0] for p in _proposals()]
    results = roi_head.predict(_feats(), empty, samples, rescale=False)
    assert all(len(res) == 0 for res in results)


def test_ordinary_extractor_into_adaptive_head_says_what_to_use():
    cfg = copy.deepcopy(_roi_head_cfg())
    cfg.bbox_roi_extractor.type = 'SingleRoIExtractor'
    roi_head = MODELS.build(cfg)
    with pytest.raises(ValueError, match='from AdaptiveRoIExtractor'):
        roi_head.loss(_feats(), _proposals(), _data([1, 1]))
