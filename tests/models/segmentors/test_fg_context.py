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
