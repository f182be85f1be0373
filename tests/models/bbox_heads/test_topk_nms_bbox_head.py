"""TopKNMSShared2FCBBoxHead: mmdet's Shared2FCBBoxHead predictions, bit for
bit, with one mmcv ``nms`` call per image instead of one per class.

Scores are softmaxes of the head's outputs on random features: continuous,
and the test checks that no two candidate scores of an image are equal (with
ties their order is up to torch's and mmcv's unstable sorts).
"""

import pytest
import torch
from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead
from mmengine.config import ConfigDict

from panoptic_zoo.models.bbox_heads import TopKNMSShared2FCBBoxHead
from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing.nms_calls import counting_nms_calls

NUM_CLASSES, IN_CHANNELS, ROI_SIZE = 20, 8, 7
NUM_ROIS = 600  # x 20 classes = 12000 candidates >= mmcv's split_thr 10000
# Faster R-CNN's rcnn test cfg at full load (score_thr 0); Panoptic FPN's
# adds class_agnostic=True.
TEST_CFG = ConfigDict(
    score_thr=0.0, nms=dict(type='nms', iou_threshold=0.5), max_per_img=100)
PFPN_TEST_CFG = ConfigDict(
    score_thr=0.0,
    nms=dict(type='nms', iou_threshold=0.5, class_agnostic=True),
    max_per_img=100)
IMG_METAS = [
    dict(img_shape=(800, 1216), scale_factor=(1.9, 1.875)),
    dict(img_shape=(736, 1333), scale_factor=(2.083, 2.08)),
]


def heads(reg_class_agnostic=False):
    cfg = dict(
        in_channels=IN_CHANNELS,
        fc_out_channels=32,
        roi_feat_size=ROI_SIZE,
        num_classes=NUM_CLASSES,
        reg_class_agnostic=reg_class_agnostic,
        init_cfg=None)
    torch.manual_seed(0)
    ref = Shared2FCBBoxHead(**cfg)
    with torch.no_grad():  # confident-ish scores, spread over decades
        ref.fc_cls.weight.mul_(8)
    ours = MODELS.build(dict(type='TopKNMSShared2FCBBoxHead', **cfg))
    assert type(ours) is TopKNMSShared2FCBBoxHead
    ours.load_state_dict(ref.state_dict())
    return ref.eval(), ours.eval()


def rois_for(img_id, num, gen):
    """(num, 5) proposals around 150 objects: many overlap, as RPN's."""
    h, w = IMG_METAS[img_id]['img_shape']
    centre = torch.rand(150, 2, generator=gen) * torch.tensor([w, h])
    size = 20 + torch.rand(150, 2, generator=gen) * 200
    pick = torch.randint(150, (num, ), generator=gen)
    ctr = centre[pick] + 8 * torch.randn(num, 2, generator=gen)
    wh = size[pick] * (1 + 0.1 * torch.randn(num, 2, generator=gen)).abs()
    boxes = torch.cat([ctr - wh / 2, ctr + wh / 2], dim=1)
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
    return torch.cat([torch.full((num, 1), float(img_id)), boxes], dim=1)


def head_outputs(head, nums=(NUM_ROIS, NUM_ROIS), seed=1):
    """Per-image rois, cls_scores, bbox_preds, as StandardRoIHead splits
    them before ``predict_by_feat``."""
    gen = torch.Generator().manual_seed(seed)
    rois = [rois_for(i, n, gen) for i, n in enumerate(nums)]
    feats = torch.randn(
        sum(nums), IN_CHANNELS, ROI_SIZE, ROI_SIZE, generator=gen)
    with torch.no_grad():
        cls_score, bbox_pred = head(feats)
    cls_scores = tuple(untie(c, gen) for c in cls_score.split(list(nums)))
    return tuple(rois), cls_scores, bbox_pred.split(list(nums))


def untie(cls_score, gen):
    """12000 softmax values of an image repeat a few times; jitter the
    logits of tied ones until no two candidate scores are equal (as
    ``F.softmax`` in mmdet's head computes them)."""
    cls_score = cls_score.clone()
    for _ in range(50):
        scores = cls_score.softmax(-1)[:, :-1]
        _, inverse, counts = scores.reshape(-1).unique(
            return_inverse=True, return_counts=True)
        tied = (counts[inverse] > 1).view_as(scores)
        if not tied.any():
            return cls_score
        noise = 1e-4 * torch.randn(scores.shape, generator=gen)
        cls_score[:, :-1][tied] += noise[tied]
    raise AssertionError('could not untie the scores')


def predict(head, outputs, rescale, test_cfg=TEST_CFG):
    """(results, mmcv nms calls)."""
    with counting_nms_calls() as calls:
        results = head.predict_by_feat(
            *outputs,
            batch_img_metas=IMG_METAS,
            rcnn_test_cfg=test_cfg,
            rescale=rescale)
    return results, len(calls)


def assert_same_results(ours, ref):
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert set(a.keys()) == set(b.keys())
        for key in b.keys():
            assert a.get(key).dtype == b.get(key).dtype
            assert torch.equal(a.get(key), b.get(key)), key


@pytest.mark.parametrize('test_cfg', [TEST_CFG, PFPN_TEST_CFG])
@pytest.mark.parametrize('reg_class_agnostic', [False, True])
@pytest.mark.parametrize('rescale', [False, True])
def test_equals_mmdet_head(rescale, reg_class_agnostic, test_cfg):
    ref_head, head = heads(reg_class_agnostic)
    outputs = head_outputs(ref_head)
    same = head_outputs(head)  # same weights, same outputs
    assert all(
        torch.equal(a, b)
        for a, b in zip(same[1] + same[2], outputs[1] + outputs[2]))
    for cls_score in outputs[1]:  # > split_thr candidates, no exact ties
        scores = cls_score.softmax(-1)[:, :-1].reshape(-1)
        assert scores.unique().numel() == scores.numel() >= 10000

    ours, calls = predict(head, outputs, rescale, test_cfg)
    ref, ref_calls = predict(ref_head, outputs, rescale, test_cfg)
    assert_same_results(ours, ref)
    assert [len(r) for r in ref] == [100, 100]
    # mmcv's per-class loop vs one top-k round per image (class-agnostic:
    # a suppression matrix, no nms call).
    assert ref_calls == 2 * NUM_CLASSES
    assert calls == (0 if test_cfg.nms.get('class_agnostic') else 2)


def test_no_test_cfg_and_empty_image():
    """Without rcnn_test_cfg (aug test: raw boxes and scores) and for an
    image without RoIs, mmdet's method runs as it is."""
    ref_head, head = heads()
    outputs = head_outputs(ref_head, nums=(0, NUM_ROIS))
    for cfg in (None, TEST_CFG):
        ours, _ = predict(head, outputs, True, cfg)
        ref, _ = predict(ref_head, outputs, True, cfg)
        assert_same_results(ours, ref)
    assert len(ours[0]) == 0 and len(ours[1]) == 100
