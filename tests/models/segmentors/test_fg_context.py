"""FGContext and the FG branch: RPN features returned, one meaning in
training and test, the mask head run at most once, plugins see only what
they declare."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config
from mmengine.structures import InstanceData

from panoptic_zoo.models.contracts import FGContext
from panoptic_zoo.models.segmentors.fg_branch import (rpn_loss,
                                                      rpn_predict, rpn_sample)
from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing import config_path

AUNET = 'aunet/aunet_r18-tiny_fpn_2k_synthetic.py'
PANOPTIC_FPN = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


def _model(relative, **options):
    cfg = Config.fromfile(config_path(relative))
    cfg.merge_from_dict(options)
    cfg.model.test_cfg.rcnn.score_thr = 0.0  # random weights: keep boxes
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def _batch(model, training, seed=0):
    np.random.seed(seed)
    data = demo_mm_inputs(
        batch_size=2,
        image_shapes=[(3, 96, 128)] * 2,
        num_items=[2, 3],
        num_classes=4,
        with_mask=True,
        with_semantic=True)
    for sample in data['data_samples']:
        sample.gt_sem_seg.sem_seg = sample.gt_sem_seg.sem_seg.clamp(max=6)
    return model.data_preprocessor(data, training)


def _count_mask_forwards(model):
    calls = []
    original = model.roi_head._mask_forward

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    model.roi_head._mask_forward = counted
    return calls


def test_rpn_gives_its_features_and_mmdets_losses():
    model = _model(PANOPTIC_FPN).train()
    data = _batch(model, True)
    samples = data['data_samples']
    x = model.extract_feat(data['inputs'])
    torch.manual_seed(3)
    losses, proposals, feats = rpn_loss(model.rpn_head, x, samples,
                                        model.train_cfg.rpn_proposal)
    torch.manual_seed(3)
    ref_losses, ref_proposals = model.rpn_head.loss_and_predict(
        x, [rpn_sample(s) for s in samples],
        proposal_cfg=model.train_cfg.rpn_proposal)
    assert sorted(losses) == sorted(ref_losses) == [
        'loss_rpn_bbox', 'loss_rpn_cls'
    ]
    for key, value in ref_losses.items():
        assert torch.equal(sum(losses[key]), sum(value))
    for got, ref in zip(proposals, ref_proposals):
        assert torch.equal(got.bboxes, ref.bboxes)
    for got, level in zip(feats, x):
        assert torch.equal(got, F.relu(model.rpn_head.rpn_conv(level)))
    feats[0].sum().backward()  # with grad: a BG loss reaches the RPN
    assert model.rpn_head.rpn_conv.weight.grad.abs().sum() > 0
    assert not model.rpn_head.rpn_conv._forward_hooks  # returned, no hook
    model.eval()
    metas = [s.metainfo for s in samples]
    with torch.no_grad():
        got, _ = rpn_predict(model.rpn_head, x, metas)
        ref = model.rpn_head.predict(x, samples, rescale=False)
    for a, b in zip(got, ref):
        assert torch.equal(a.bboxes, b.bboxes)


def test_a_plugin_sees_only_what_it_declares():
    feats = (torch.zeros(1, 2, 4, 4), )
    proposals = [InstanceData(bboxes=torch.zeros(0, 4), scores=torch.zeros(0))]
    fg = FGContext(feats, proposals, rpn_feats=feats)
    view = fg.view(('proposals', ), 'model.attention[0] (Gate)')
    assert view.proposals is proposals and view.feats is feats
    with pytest.raises(AttributeError) as error:
        view.rpn_feats
    assert "model.attention[0] (Gate) reads FGContext.rpn_feats but does " \
        "not declare it: add 'rpn_feats'" in str(error.value)
    with pytest.raises(ValueError, match=r"\['masks'\] are not FGContext"):
        fg.view(('masks', ), 'X')
    with pytest.raises(AttributeError, match='instances was not given'):
        fg.instances


def test_instances_are_computed_on_first_read_only():
    calls = []
    fg = FGContext((), [], (), instances=lambda: calls.append(1) or [1])
    assert calls == []
    assert fg.instances == [1] and fg.instances == [1]
    assert calls == [1]


@pytest.mark.parametrize('relative', [PANOPTIC_FPN, AUNET])
def test_mask_head_runs_once_per_step(relative):
    """Training: once in the RoI head's loss, once more only if a plugin
    reads the instances (MAM); test: once, shared by MAM and fusion."""
    model = _model(relative)
    reads_instances = any('instances' in p.reads for p in model.attention)
    calls = _count_mask_forwards(model)
    model.train()
    model(**_batch(model, True), mode='loss')
    assert len(calls) == 1 + reads_instances
    calls.clear()
    model.eval()
    with torch.no_grad():
        model(**_batch(model, False), mode='predict')
    assert len(calls) == 1


def test_test_context_pastes_what_mmdet_predicts():
    """``fg.paste_masks`` gives ``roi_head.predict``'s results exactly,
    from the mask logits the plugins read (input coordinates)."""
    from panoptic_zoo.models.segmentors.fg_branch import test_context
    model = _model(AUNET).eval()
    data = _batch(model, False)
    samples = data['data_samples']
    for sample in samples:  # a resized input: boxes are rescaled when pasted
        sample.set_metainfo(dict(scale_factor=(2.0, 1.25)))
    metas = [s.metainfo for s in samples]
    with torch.no_grad():
        x = model.extract_feat(data['inputs'])
        proposals, rpn_feats = rpn_predict(model.rpn_head, x, metas)
        fg = test_context(model.roi_head, x, proposals, rpn_feats, metas)
        pasted = fg.paste_masks(metas, rescale=True)
        ref = model.roi_head.predict(x, proposals, samples, rescale=True)
    assert sum(len(r) for r in ref) > 0
    for got, want, inst in zip(pasted, ref, fg.instances):
        assert torch.equal(got.bboxes, want.bboxes)
        assert torch.equal(got.masks, want.masks)
        assert torch.equal(got.labels, want.labels)
        # the context's own boxes stay in input coordinates
        assert torch.equal(got.bboxes,
                           inst.bboxes / torch.tensor([2.0, 1.25, 2.0, 1.25]))
        assert inst.mask_logits.shape == (len(inst), 28, 28)


def test_training_proposals_keep_their_boxes(monkeypatch):
    """mmdet's RoI head renames ``bboxes`` to ``priors`` in place; the
    context's proposals are its own."""
    import panoptic_zoo.models.segmentors.panoptic_segmentor as segmentor
    model = _model(PANOPTIC_FPN).train()
    data = _batch(model, True)
    seen, contexts = [], []
    roi_loss, train_context = model.roi_head.loss, segmentor.train_context

    def loss(x, proposals, samples):
        seen.append(proposals)
        return roi_loss(x, proposals, samples)

    def spy(*args):
        contexts.append(train_context(*args))
        return contexts[-1]

    monkeypatch.setattr(model.roi_head, 'loss', loss)
    monkeypatch.setattr(segmentor, 'train_context', spy)
    model(**data, mode='loss')
    assert 'priors' in seen[0][0] and 'bboxes' not in seen[0][0]
    fg = contexts[0]
    assert all('bboxes' in p and 'scores' in p for p in fg.proposals)
    assert torch.equal(fg.proposals[0].bboxes, seen[0][0].priors)
    gt = fg.instances  # training: the GT instances, score 1
    assert torch.equal(gt[0].labels,
                       data['data_samples'][0].gt_instances.labels)
    assert torch.equal(gt[0].scores, torch.ones(len(gt[0])))


def test_forward_runs_the_box_head_once_and_matches_prediction():
    """``_forward`` (FLOP counting) derives MAM's detections from the box
    outputs it already has: one box-head call, and the same detections as
    the test-time path (``predict_bbox``)."""
    from panoptic_zoo.models.segmentors.fg_branch import raw_context
    model = _model(AUNET).eval()
    data = _batch(model, False)
    calls = []
    handle = model.roi_head.bbox_head.register_forward_hook(
        lambda *_: calls.append(1))
    with torch.no_grad():
        model._forward(data['inputs'], data['data_samples'])
        assert len(calls) == 1
        x = model.extract_feat(data['inputs'])
        metas = [s.metainfo for s in data['data_samples']]
        proposals, rpn_feats = rpn_predict(model.rpn_head, x, metas)
        outs = model.roi_head(x, proposals)
        got = raw_context(model.roi_head, x, proposals, rpn_feats, outs[:2],
                          metas).instances
        ref = model.roi_head.predict_bbox(
            x, metas, proposals, model.roi_head.test_cfg, rescale=False)
    handle.remove()
    assert sum(len(r) for r in ref) > 0
    for a, b in zip(got, ref):
        assert torch.equal(a.labels, b.labels)
        torch.testing.assert_close(a.bboxes, b.bboxes, rtol=0, atol=0)
        assert a.mask_logits.shape[0] == len(b)


def test_a_step_frees_its_context_without_the_garbage_collector(
        monkeypatch):
    """No reference cycle holds a step's FGContext, and with it the neck
    and RPN features, until the collector runs (it cost GiBs of GPU
    memory between steps)."""
    import gc
    import weakref

    import panoptic_zoo.models.segmentors.panoptic_segmentor as segmentor
    model = _model(AUNET).train()
    refs, train_context = [], segmentor.train_context

    def spy(roi_head, x, *args):
        context = train_context(roi_head, x, *args)
        refs.extend([weakref.ref(context), weakref.ref(x[0])])
        return context

    monkeypatch.setattr(segmentor, 'train_context', spy)
    gc.disable()
    try:
        losses = model(**_batch(model, True), mode='loss')
        model.parse_losses(losses)[0].backward()
        del losses
        assert [ref() for ref in refs] == [None, None]
    finally:
        gc.enable()
