"""FGContextBuilder: RPN features and FG masks, only when asked for."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import nn

from panoptic_zoo.models.segmentors.fg_context import FGContextBuilder
from panoptic_zoo.registry import MODELS
from panoptic_zoo.structures import FGContext


class _Plugin(nn.Module):

    def __init__(self, rpn=False, masks=False):
        super().__init__()
        self.needs_rpn_feats, self.needs_fg_masks = rpn, masks


class _MaskRoIHead(nn.Module):
    """Records the RoIs its mask branch runs on; logits = class index."""
    with_mask = True

    def __init__(self):
        super().__init__()
        self.rois = None

    def _mask_forward(self, x, rois):
        self.rois = rois
        preds = torch.arange(3.).view(1, 3, 1, 1).expand(len(rois), 3, 4, 4)
        return dict(mask_preds=preds)


def _rpn_head():
    return MODELS.build(
        dict(
            type='RPNHead',
            in_channels=4,
            feat_channels=6,
            anchor_generator=dict(
                type='AnchorGenerator',
                scales=[8],
                ratios=[1.0],
                strides=[4, 8]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder')))


def test_rpn_feats_recorded_with_grad_and_only_when_asked():
    rpn_head = _rpn_head()
    feats = (torch.randn(2, 4, 8, 8, requires_grad=True),
             torch.randn(2, 4, 4, 4, requires_grad=True))
    builder = FGContextBuilder([_Plugin(rpn=True)], rpn_head, _MaskRoIHead())
    fg = FGContext(feats=feats, proposals=[])
    with builder.recording(rpn_head):
        rpn_head(feats)
        done = builder.complete(fg)
    assert fg.rpn_feats is None  # not mutated
    for got, feat in zip(done.rpn_feats, feats):
        assert torch.allclose(got, F.relu(rpn_head.rpn_conv(feat)))
    done.rpn_feats[0].sum().backward()
    assert rpn_head.rpn_conv.weight.grad.abs().sum() > 0
    assert not rpn_head.rpn_conv._forward_hooks
    with pytest.raises(RuntimeError, match='inside FGContextBuilder'):
        builder.complete(fg)
    idle = FGContextBuilder([_Plugin()], rpn_head, _MaskRoIHead())
    with idle.recording(rpn_head):
        assert not rpn_head.rpn_conv._forward_hooks
        assert idle.complete(fg) is fg


def test_test_instances_in_input_coordinates():
    roi_head = _MaskRoIHead()
    builder = FGContextBuilder([_Plugin(masks=True)], _rpn_head(), roi_head)
    results = [
        InstanceData(
            bboxes=torch.tensor([[1., 2., 5., 6.]]),
            labels=torch.tensor([2]),
            scores=torch.tensor([0.9]),
            masks=torch.zeros(1, 10, 10, dtype=torch.bool))
    ]
    metas = [dict(scale_factor=(2.0, 0.5))]
    out = builder.test_instances(roi_head, (), results, metas, rescale=True)
    assert torch.equal(out[0].bboxes, torch.tensor([[2., 1., 10., 3.]]))
    assert torch.equal(roi_head.rois, torch.tensor([[0., 2., 1., 10., 3.]]))
    assert torch.equal(out[0].mask_logits, torch.full((1, 4, 4), 2.))
    assert torch.equal(results[0].bboxes, torch.tensor([[1., 2., 5., 6.]]))
    idle = FGContextBuilder([], _rpn_head(), roi_head)
    assert idle.test_instances(roi_head, (), results, metas, True) is results
    assert idle.train_instances(roi_head, (), []) is None


def test_build_errors_name_the_plugin_and_head():
    no_mask = _MaskRoIHead()
    no_mask.with_mask = False
    with pytest.raises(ValueError, match=r'\(_Plugin\) reads FG masks'):
        FGContextBuilder([_Plugin(masks=True)], _rpn_head(), no_mask)
    with pytest.raises(ValueError, match='has no rpn_conv'):
        FGContextBuilder([_Plugin(rpn=True)], nn.Identity(), no_mask)


def test_forward_runs_the_box_head_once_and_matches_prediction():
    """``_forward`` (FLOP counting) derives MAM's detections from the box
    outputs it already has: one box-head call, and the same detections as
    the test-time path (``predict_bbox``)."""
    import numpy as np
    from mmdet.testing import demo_mm_inputs
    from mmengine.config import Config

    from panoptic_zoo.testing import config_path
    cfg = Config.fromfile(
        config_path('aunet/aunet_r18-tiny_fpn_2k_synthetic.py')).model
    cfg.test_cfg.rcnn.score_thr = 0.0  # random weights: keep detections
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    np.random.seed(0)
    data = model.data_preprocessor(
        demo_mm_inputs(batch_size=2, image_shapes=[(3, 96, 128)] * 2,
                       num_items=[2, 3], num_classes=4, with_mask=True,
                       with_semantic=True), False)
    calls = []
    handle = model.roi_head.bbox_head.register_forward_hook(
        lambda *_: calls.append(1))
    with torch.no_grad():
        model._forward(data['inputs'], data['data_samples'])
        assert len(calls) == 1
        x = model.extract_feat(data['inputs'])
        metas = [s.metainfo for s in data['data_samples']]
        proposals = model.rpn_head.predict(
            x, data['data_samples'], rescale=False)
        outs = model.roi_head(x, proposals)
        got = model.fg_context.proposal_instances(
            model.roi_head, x, proposals, outs[:2], metas)
        ref = model.roi_head.predict_bbox(
            x, metas, proposals, model.roi_head.test_cfg, rescale=False)
    handle.remove()
    assert sum(len(r) for r in ref) > 0
    for a, b in zip(got, ref):
        assert torch.equal(a.labels, b.labels)
        torch.testing.assert_close(a.bboxes, b.bboxes, rtol=0, atol=0)
        assert a.mask_logits.shape[0] == len(b)
