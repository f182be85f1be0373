"""UPSNet panoptic head: Z and its argmax by hand, targets, gradients, the
test-time rules, zero and out-of-image instances, config errors."""
import pytest
import torch
import torch.nn.functional as F
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

from panoptic_zoo.models.fusion_heads.upsnet_panoptic_logits import (
    paste_mask_logits, panoptic_argmax, panoptic_logits, panoptic_targets)
from panoptic_zoo.models.fusion_heads.upsnet_panoptic_post import (
    remove_overlapping_masks, unify_panoptic)
from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing import config_path

M = 28  # mask-logit side
MIX_SYN = 'mix/panoptic-fpn-upsnet-fusion_r18-tiny_fpn_2k_synthetic.py'


def _head(**kwargs):
    cfg = dict(
        type='UPSNetPanopticHead', num_things_classes=2, num_stuff_classes=2)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _const_masks(*values):
    return torch.stack([torch.full((M, M), float(v)) for v in values])


def _halves(left, right):
    """A mask logit whose left half is ``left`` and right half ``right``."""
    mask = torch.full((M, M), float(left))
    mask[:, M // 2:] = right
    return mask


# ---------------------------------------------------------------- Z by hand
def _crafted():
    """1×4 map, S = 2, T = 2, one class-0 instance boxed on pixels 0-1 with
    mask logit 0.5 everywhere."""
    stuff = torch.tensor([[[0., 0., 5., -1.]], [[0., 0., 0., .5]]])
    things = torch.tensor([[[1., 4., 1., 0.]], [[3., 1., 2., 0.]]])
    boxes = torch.tensor([[0., 0., 1., 0.]])
    return stuff, things, boxes, torch.tensor([0]), _const_masks(.5)


def test_z_values_and_argmax_by_hand():
    logits = panoptic_logits(*_crafted())
    # Instance: X[0] + 0.5 inside the box, 0 outside.
    # Unknown: max_c X_thing - max_i X_mask_i (0 outside every box).
    expected = torch.tensor([
        [[0., 0., 5., -1.]],  # stuff 0
        [[0., 0., 0., .5]],  # stuff 1
        [[1.5, 4.5, 0., 0.]],  # instance 0
        [[3. - 1., 4. - 4., 2. - 0., 0. - 0.]],  # unknown
    ])
    torch.testing.assert_close(logits, expected)
    # pixel 0: max X_thing (3) > max X_mask (1): unknown (2) beats the
    # instance (1.5); pixel 1: the instance's mask logit dominates;
    # pixels 2, 3: stuff 0 and stuff 1.
    assert logits.argmax(0).tolist() == [[3, 2, 0, 1]]
    assert panoptic_argmax(*_crafted()).tolist() == [[3, 2, 0, 1]]


def test_without_unknown_the_thing_pixel_goes_to_the_instance():
    logits = panoptic_logits(*_crafted(), with_unknown=False)
    assert logits.shape == (3, 1, 4)
    assert logits.argmax(0).tolist() == [[2, 2, 0, 1]]


def test_overlapping_instances_resolve_by_logits_not_order():
    stuff = torch.full((1, 1, 2), -9.)
    things = torch.tensor([[[2., 2.]], [[1., 1.]]])
    boxes = torch.tensor([[0., 0., 1., 0.], [0., 0., 1., 0.]])
    labels = torch.tensor([0, 1])
    masks = torch.stack([_halves(3, -3), _halves(-3, 3)])
    # A (class 0): [2 + 3, 2 - 3] = [5, -1]; B (class 1): [1 - 3, 1 + 3]
    # = [-2, 4]: A wins pixel 0, B pixel 1, in either order.
    z = panoptic_logits(stuff, things, boxes, labels, masks)
    torch.testing.assert_close(z[1:3], torch.tensor([[[5., -1.]], [[-2.,
                                                                    4.]]]))
    assert z.argmax(0).tolist() == [[1, 2]]
    flip = [1, 0]
    z = panoptic_logits(stuff, things, boxes[flip], labels[flip], masks[flip])
    assert z.argmax(0).tolist() == [[2, 1]]  # still A left, B right
    assert panoptic_argmax(
        stuff, things, boxes[flip], labels[flip], masks[flip],
        chunk_size=1).tolist() == [[2, 1]]


def test_streaming_argmax_equals_dense_argmax():
    torch.manual_seed(0)
    stuff, things = torch.randn(3, 20, 24), torch.randn(4, 20, 24)
    boxes = torch.tensor([[2., 3., 10., 12.], [-6., -4., 7.5, 9.],
                          [15., 10., 40., 30.], [30., 30., 40., 40.],
                          [0., 0., 23., 19.]])
    labels = torch.tensor([0, 3, 1, 2, 3])
    masks = torch.randn(5, M, M)
    for with_unknown in (True, False):
        dense = panoptic_logits(
            stuff, things, boxes, labels, masks,
            with_unknown=with_unknown).argmax(0)
        for chunk in (1, 2, 5):
            streamed = panoptic_argmax(
                stuff,
                things,
                boxes,
                labels,
                masks,
                with_unknown=with_unknown,
                chunk_size=chunk)
            assert torch.equal(streamed, dense)


# ---------------------------------------------------------------- pasting
def test_paste_equals_bilinear_resize_into_the_box():
    torch.manual_seed(1)
    masks = torch.randn(2, M, M)
    boxes = torch.tensor([[3.2, 5.7, 20.9, 30.1], [0., 0., 0.4, 0.]])
    pasted = paste_mask_logits(masks, boxes, 40, 32)
    ref = torch.zeros(2, 40, 32)
    # Official MaskTerm: truncated box, (y1 - y0 + 1) × (x1 - x0 + 1).
    ref[0, 5:31, 3:21] = F.interpolate(
        masks[None, :1], size=(26, 18), mode='bilinear',
        align_corners=False)[0, 0]
    ref[1, 0:1, 0:1] = F.interpolate(
        masks[None, 1:], size=(1, 1), mode='bilinear', align_corners=False)[0,
                                                                            0]
    torch.testing.assert_close(pasted, ref, atol=1e-5, rtol=1e-5)


def test_paste_of_boxes_partly_and_fully_outside_the_image():
    torch.manual_seed(2)
    masks = torch.randn(2, M, M)
    boxes = torch.tensor([[-5., -3., 10., 12.], [50., 50., 60., 70.]])
    pasted = paste_mask_logits(masks, boxes, 16, 16)
    full = F.interpolate(
        masks[None, :1], size=(16, 16), mode='bilinear',
        align_corners=False)[0, 0]
    # Rows -3..12 and columns -5..10 of the resize; the image shows 0..
    torch.testing.assert_close(
        pasted[0, :13, :11], full[3:, 5:], atol=1e-5, rtol=1e-5)
    assert (pasted[0, 13:] == 0).all() and (pasted[0, :, 11:] == 0).all()
    assert (pasted[1] == 0).all()


# ---------------------------------------------------------------- targets
def test_targets_unknown_for_dropped_and_crowd_things():
    # T = 2, S = 2: things 0, 1; stuff 2, 3; 255 void.
    sem = torch.tensor([[2, 3, 0, 0, 1, 255]])
    kept = torch.tensor([[[0, 0, 1, 0, 0, 0]]], dtype=torch.bool)  # K=1
    # stuff 2 -> 0, 3 -> 1; kept instance -> S + 0 = 2; the other thing
    # pixels (dropped instance, crowd) -> unknown S + K = 3; void stays.
    target = panoptic_targets(sem, kept, num_things=2, num_stuff=2)
    assert target.tolist() == [[0, 1, 2, 3, 3, 255]]
    target = panoptic_targets(
        sem, kept, num_things=2, num_stuff=2, with_unknown=False)
    assert target.tolist() == [[0, 1, 2, 255, 255, 255]]


def test_later_masks_overwrite_earlier_ones():
    sem = torch.tensor([[0, 0, 0]])
    masks = torch.tensor([[[1, 1, 0]], [[0, 1, 1]]], dtype=torch.bool)
    target = panoptic_targets(sem, masks, num_things=1, num_stuff=1)
    assert target.tolist() == [[1, 2, 2]]


# ------------------------------------------------------- loss, gradients
def _sample(boxes, labels, masks, sem, pad_shape):
    sample = DetDataSample(metainfo=dict(batch_input_shape=pad_shape))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        labels=torch.tensor(labels, dtype=torch.long),
        masks=torch.as_tensor(masks, dtype=torch.bool).reshape(-1, *pad_shape))
    sample.gt_sem_seg = PixelData(sem_seg=sem[None])
    return sample


def _train_inputs(num_gt=3):
    torch.manual_seed(3)
    pad = (32, 32)
    sem = torch.full(pad, 2, dtype=torch.long)  # stuff 0 everywhere
    masks = torch.zeros(num_gt, *pad, dtype=torch.bool)
    boxes = []
    for i in range(num_gt):
        y0 = 8 * i
        masks[i, y0:y0 + 8, 4:20] = True
        sem[y0:y0 + 8, 4:20] = i % 2
        boxes.append([4., y0, 19., y0 + 7.])
    sample = _sample(boxes, [i % 2 for i in range(num_gt)], masks, sem, pad)
    stuff = torch.randn(1, 2, 8, 8, requires_grad=True)
    things = torch.randn(1, 2, 8, 8, requires_grad=True)
    return stuff, things, sample


def test_loss_gives_gradients_to_semantic_and_mask_logits():
    head = _head()
    stuff, things, sample = _train_inputs()
    instances = head.sample_instances([sample.gt_instances])
    assert len(instances[0]) == max(int(3 * 0.7), 1) == 2
    mask_logits = torch.randn(2, M, M, requires_grad=True)
    instances[0].mask_logits = mask_logits
    loss = head.loss_by_logits(stuff, things, instances,
                               [sample])['loss_panoptic']
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    for grad in (stuff.grad, things.grad, mask_logits.grad):
        assert grad is not None and grad.abs().sum() > 0


def test_loss_by_hand_for_uniform_logits():
    """Z all zeros: every non-void pixel costs log(C); the mean runs over
    all pixels (ignored ones count 0), times the weight 0.1."""
    head = _head(keep_fraction=1.0)
    _, _, sample = _train_inputs(num_gt=1)
    sample.gt_sem_seg.sem_seg[0, 16:] = 255  # bottom half void
    zeros = torch.zeros(1, 2, 8, 8)
    inst = head.sample_instances([sample.gt_instances])
    inst[0].mask_logits = torch.zeros(1, M, M)
    loss = head.loss_by_logits(zeros, zeros, inst, [sample])['loss_panoptic']
    num_channels = 2 + 1 + 1  # stuff, one instance, unknown
    expected = 0.1 * torch.log(torch.tensor(4.)) * 0.5
    assert num_channels == 4
    torch.testing.assert_close(loss, expected)


def test_zero_gt_instances_train_the_unknown_channel():
    head = _head()
    pad = (16, 16)
    sem = torch.zeros(pad, dtype=torch.long)  # a crowd of thing 0
    sample = _sample([], [], torch.zeros(0, *pad), sem, pad)
    instances = head.sample_instances([sample.gt_instances])
    assert len(instances[0]) == 0
    instances[0].mask_logits = torch.zeros(0, M, M)
    stuff = torch.zeros(1, 2, 4, 4, requires_grad=True)
    things = torch.zeros(1, 2, 4, 4, requires_grad=True)
    loss = head.loss_by_logits(stuff, things, instances,
                               [sample])['loss_panoptic']
    # Z = [stuff 0, stuff 0, unknown 0]: every pixel is unknown, log 3.
    torch.testing.assert_close(loss, 0.1 * torch.log(torch.tensor(3.)))
    loss.backward()
    assert things.grad.abs().sum() > 0


def test_sample_instances_keeps_all_with_fraction_one():
    head = _head(keep_fraction=1.0, with_unknown=False)
    _, _, sample = _train_inputs()
    inst = head.sample_instances([sample.gt_instances])[0]
    assert inst.gt_inds.tolist() == [0, 1, 2]


# ---------------------------------------------------------------- test time
def test_remove_overlapping_masks_same_class_only():
    boxes = torch.tensor([[0., 0., 9., 9.]] * 4)
    # A: left half; B: whole box (50 % on A, same class) -> removed;
    # C: whole box, other class -> kept; D: empty mask -> removed.
    masks = torch.stack([
        _halves(1, -1),
        _const_masks(1)[0],
        _const_masks(1)[0],
        _const_masks(-1)[0]
    ])
    labels = torch.tensor([0, 0, 1, 1])
    scores = torch.tensor([.9, .8, .7, .95])
    keep = remove_overlapping_masks(masks, boxes, labels, scores, 10, 10)
    assert keep.tolist() == [0, 2]
    keep = remove_overlapping_masks(
        masks, boxes, labels, scores, 10, 10, overlap_thr=0.6, chunk_size=1)
    assert keep.tolist() == [0, 1, 2]


def test_unify_relabels_to_stuff_and_voids_small_stuff():
    # S = 2, T = 2; pan: 0/1 stuff, 2/3 instances (labels 0, 1), 4 unknown.
    pan = torch.tensor([[0, 0, 0, 2, 2, 3, 3, 3, 4, 1]])
    # sem: instance 2 sits on stuff 1 only -> becomes stuff 1; instance 3
    # is mostly its own class (thing 1 = channel 3) -> stays.
    sem = torch.tensor([[0, 0, 0, 1, 1, 3, 3, 0, 0, 1]])
    out = unify_panoptic(
        pan,
        sem,
        torch.tensor([0, 1]),
        num_things=2,
        num_stuff=2,
        stuff_area_limit=3)
    inst = 1 + 2 * INSTANCE_OFFSET  # thing 1, second instance
    # stuff 0 (3 px) kept as label 2; stuff 1 (2 relabelled + 1 = 3 px)
    # kept as label 3; unknown -> void 4.
    assert out.tolist() == [[2, 2, 2, 3, 3, inst, inst, inst, 4, 3]]
    out = unify_panoptic(
        pan,
        sem,
        torch.tensor([0, 1]),
        num_things=2,
        num_stuff=2,
        stuff_area_limit=4)
    assert out.tolist() == [[4, 4, 4, 4, 4, inst, inst, inst, 4, 4]]
    # A 50/50 tie between stuff 0 and the own class goes to the smaller
    # channel (stuff), as np.unique + argmax does officially.
    out = unify_panoptic(
        torch.tensor([[2, 2]]),
        torch.tensor([[0, 2]]),
        torch.tensor([0]),
        num_things=2,
        num_stuff=2)
    assert out.tolist() == [[2, 2]]


def _detections(boxes, labels, scores, masks):
    return InstanceData(
        bboxes=torch.tensor(boxes).reshape(-1, 4),
        labels=torch.tensor(labels, dtype=torch.long),
        scores=torch.tensor(scores),
        mask_logits=masks)


def test_predict_instance_ids_rescale_and_zero_detections():
    head = _head(test_cfg=dict(stuff_area_limit=0))
    meta = dict(img_shape=(8, 8), ori_shape=(16, 16))
    stuff = torch.zeros(2, 12, 12)  # padded beyond img_shape
    stuff[1] = 1.  # stuff 1 everywhere
    things = torch.zeros(2, 12, 12)
    things[0, :4, :4] = 3.  # thing 0 top-left
    dets = _detections([[0., 0., 3., 3.]], [0], [.9], _const_masks(5))
    pred = head.predict_by_logits([dets], [(stuff, things)], [meta])[0].sem_seg
    assert pred.shape == (1, 16, 16)
    ref = torch.full((16, 16), 2 + 1, dtype=torch.int32)  # stuff 1
    ref[:8, :8] = 0 + 1 * INSTANCE_OFFSET  # thing 0, instance 1
    assert torch.equal(pred[0], ref)
    # No detection: the thing pixels become unknown (void), not stuff.
    empty = _detections([], [], [], torch.zeros(0, M, M))
    pred = head.predict_by_logits([empty], [(stuff, things)],
                                  [meta])[0].sem_seg
    ref[:8, :8] = 4
    assert torch.equal(pred[0], ref)


# ---------------------------------------------------------------- config
def test_bad_configs_fail_with_the_key():
    with pytest.raises(ValueError, match=r'keep_fraction must be in'):
        _head(keep_fraction=0.)
    with pytest.raises(ValueError, match=r'loss_panoptic\.ignore_index'):
        _head(loss_panoptic=dict(type='CrossEntropyLoss', loss_weight=.1))
    with pytest.raises(KeyError, match=r'test_cfg\.panoptic\.mask_overlp'):
        _head(test_cfg=dict(mask_overlp=0.3))


def test_stock_panoptic_fpn_semantic_head_is_refused_at_build():
    cfg = Config.fromfile(config_path(MIX_SYN))
    cfg.model.semantic_head.type = 'PanopticFPNHead'
    with pytest.raises(
            ValueError,
            match=r'UPSNetPanopticHead\) needs one semantic logit channel '
            r'per thing class \(4\), but model\.semantic_head '
            r'\(PanopticFPNHead\) gives 1'):
        MODELS.build(cfg.model)


def test_roi_head_without_mask_head_is_refused_at_build():
    cfg = Config.fromfile(config_path(MIX_SYN))
    cfg.model.roi_head.mask_head = None
    cfg.model.roi_head.mask_roi_extractor = None
    with pytest.raises(ValueError,
                       match=r'roi_head \(StandardRoIHead\) has no mask '
                       r'head: the fusion head and FGContext.instances need'):
        MODELS.build(cfg.model)
