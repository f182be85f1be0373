"""UPSNet semantic head: shared deformable stack, stuff-first layout, the
semantic and RoI losses by hand, DCN on CPU (and CUDA = CPU), errors; and
the per-thing-class Panoptic FPN head the mix config uses."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData, PixelData

from panoptic_zoo.models.contracts import SemanticLogits
from panoptic_zoo.models.semantic_heads.stuff_first import to_stuff_first
from panoptic_zoo.models.semantic_heads.upsnet_semantic_head import \
    roi_label_targets
from panoptic_zoo.registry import MODELS

T, S = 2, 3  # thing, stuff classes


def _head(**kwargs):
    cfg = dict(
        type='UPSNetSemanticHead',
        num_things_classes=T,
        num_stuff_classes=S,
        in_channels=8,
        inner_channels=4)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _feats(size=16, seed=0):
    torch.manual_seed(seed)
    return tuple(
        torch.randn(2, 8, size // 2**i, size // 2**i) for i in range(4))


def _samples(boxes_per_image, pad=(64, 64)):
    samples = []
    for boxes in boxes_per_image:
        sample = DetDataSample(metainfo=dict(batch_input_shape=pad))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            labels=torch.zeros(len(boxes), dtype=torch.long))
        sem = torch.full((1, *pad), T, dtype=torch.long)  # stuff 0
        sem[0, :, pad[1] // 2:] = 0  # right half: thing 0
        sem[0, :8] = 255  # top rows void
        sample.gt_sem_seg = PixelData(sem_seg=sem)
        samples.append(sample)
    return samples


@pytest.mark.parametrize('conv_type', ['DCN', 'DCNv2', 'Conv2d'])
def test_forward_shapes_and_shared_stack(conv_type):
    head = _head(conv_cfg=dict(type=conv_type))
    # Official channel plan for 3 layers: C_in, C_in, C_inner, C_inner.
    assert [(layer.conv.in_channels, layer.conv.out_channels)
            for layer in head.subnet] == [(8, 8), (8, 4), (4, 4)]
    # One stack for all four levels: no per-level parameters.
    assert {k.split('.')[0]
            for k in head.state_dict()} == {'subnet', 'conv_logits'}
    assert head.conv_logits.in_channels == 4 * 4  # 4 levels × C_inner
    outs = head(_feats())
    assert outs['seg_preds'].shape == (2, S + T, 16, 16)
    assert outs['seg_feats'].shape == (2, 4 * 4, 16, 16)
    level3 = head.subnet(_feats()[3])
    up = F.interpolate(
        level3, size=(16, 16), mode='bilinear', align_corners=False)
    torch.testing.assert_close(outs['seg_feats'][:, 12:], up)


def test_dcn_with_zero_offsets_equals_conv_on_cpu():
    """Official init: zero offsets, so DCN v1 (mmcv's CPU kernel) is a
    plain 3×3 conv with the same weights and bias."""
    head = _head()
    layer = head.subnet[0]
    assert type(layer.conv).__name__ == 'DeformConv2dPack'
    assert (layer.conv.conv_offset.weight == 0).all()
    torch.manual_seed(0)
    layer.bias.data.normal_()
    for x in (torch.randn(2, 8, 9, 11), torch.randn(2, 8, 2, 1)):
        # (2×1: smaller than the kernel, which mmcv's DCN pack rejects.)
        ref = F.relu(F.conv2d(x, layer.conv.weight, layer.bias, padding=1))
        torch.testing.assert_close(layer(x), ref, atol=1e-5, rtol=1e-5)
    layer.conv.conv_offset.bias.data.fill_(0.5)  # shifted sampling
    assert not torch.allclose(layer(x), ref, atol=1e-3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('conv_type', ['DCN', 'DCNv2'])
def test_cuda_equals_cpu(conv_type):
    """Same weights and input: mmcv's CUDA and CPU kernels agree, forward
    and backward. TF32 (cuDNN's default for the offset and 1×1 convs) is
    off: with it the outputs differ by ~4e-4 relative on an H100."""
    head = _head(conv_cfg=dict(type=conv_type))
    torch.manual_seed(0)
    for layer in head.subnet:  # non-zero offsets: exercise the sampling
        layer.conv.conv_offset.weight.data.normal_(0, 0.1)
    feats = _feats()
    results = []
    tf32 = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        for device in ('cpu', 'cuda'):
            head.zero_grad()
            head.to(device)
            out = head(tuple(f.to(device) for f in feats))['seg_preds']
            out.square().sum().backward()
            results.append(
                (out.detach().cpu(), head.subnet[0].conv.weight.grad.cpu()))
    finally:
        torch.backends.cudnn.allow_tf32 = tf32
    (cpu_out, cpu_grad), (gpu_out, gpu_grad) = results
    torch.testing.assert_close(gpu_out, cpu_out, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(gpu_grad, cpu_grad, atol=1e-3, rtol=1e-3)


def test_stuff_first_layout():
    labels = torch.tensor([0, 1, 2, 3, 4, 5, 255])  # T = 2, S = 3
    assert to_stuff_first(labels, T, S).tolist() == [3, 4, 0, 1, 2, 255, 255]
    head = _head()
    outs = dict(seg_preds=torch.arange(5.)[None, :, None, None])
    seg = SemanticLogits.of(head, outs)
    assert head.num_thing_channels == T
    stuff, things = seg.split(seg.seg_preds[0])
    assert stuff.flatten().tolist() == [0., 1., 2.]
    assert things.flatten().tolist() == [3., 4.]


def test_roi_targets_by_hand():
    sem = torch.arange(64).reshape(8, 8)
    # Box rounds to x 2..6, y 1..3 (exclusive ends): crop rows 1, 2 and
    # columns 2..5; 4 × 4 nearest samples every 2/4 rows, 4/4 columns.
    crops = roi_label_targets(sem, torch.tensor([[1.6, 1.2, 5.6, 2.6]]), 4)
    rows, cols = [1, 1, 2, 2], [2, 3, 4, 5]
    assert crops[0].tolist() == [[8 * r + c for c in cols] for r in rows]
    # Zero width after rounding: widened by one pixel; outside: void.
    crops = roi_label_targets(
        sem, torch.tensor([[3.1, 0., 2.9, 1.], [20., 20., 30., 30.]]), 2)
    assert crops[0].tolist() == [[3, 3], [3, 3]]
    assert (crops[1] == 255).all()


def _uniform(head):
    """Zero classifier: every logit 0, every CE term log(S + T)."""
    head.conv_logits.weight.data.zero_()
    return head


def test_losses_by_hand_for_uniform_logits():
    head = _uniform(_head())
    losses = head.loss(_feats(), _samples([[[4., 40., 60., 60.]], []]))
    log_c = math.log(S + T)
    # Semantic: mean over non-void pixels only, weight 0.2.
    assert losses['loss_seg'].item() == pytest.approx(0.2 * log_c)
    # RoI: mean over all 28×28 entries; the box lies below the void rows.
    assert losses['loss_roi'].item() == pytest.approx(0.04 * log_c)


def test_roi_loss_counts_void_entries_as_zero():
    head = _uniform(_head(roi_size=4))
    # Box rows 0..15: the top 8 rows of its crop (half the samples) void.
    losses = head.loss(_feats(), _samples([[[0., 0., 16., 16.]]] * 2))
    assert losses['loss_roi'].item() == pytest.approx(0.04 * math.log(S + T) /
                                                      2)


def test_no_gt_boxes_gives_a_zero_connected_roi_loss():
    head = _head()
    losses = head.loss(_feats(), _samples([[], []]))
    assert losses['loss_roi'].item() == 0
    sum(losses.values()).backward()
    assert head.conv_logits.weight.grad is not None


def test_roi_loss_can_be_disabled_and_predict_upsamples():
    head = _head(loss_roi=None, conv_cfg=None)
    assert set(head.loss(_feats(), _samples([[], []]))) == {'loss_seg'}
    metas = [
        dict(
            batch_input_shape=(64, 64), img_shape=(60, 50), ori_shape=(30, 25))
    ] * 2
    preds = head.predict(_feats(), metas, rescale=True)
    assert preds[0].shape == (S + T, 30, 25)


def test_bad_configs_fail_with_the_key():
    with pytest.raises(ValueError, match=r'conv_cfg\.type=.DCNv3.'):
        _head(conv_cfg=dict(type='DCNv3'))
    with pytest.raises(ValueError, match=r'num_convs=0'):
        _head(num_convs=0)
    with pytest.raises(ValueError, match=r'loss_roi\.ignore_index'):
        _head(loss_roi=dict(type='CrossEntropyLoss', loss_weight=1.))
    with pytest.raises(ValueError, match=r'the neck gave 3'):
        _head()(_feats()[:3])


def test_per_class_panoptic_fpn_head():
    head = MODELS.build(
        dict(
            type='PanopticFPNPerClassHead',
            num_things_classes=T,
            num_stuff_classes=S,
            in_channels=8,
            inner_channels=8,
            norm_cfg=dict(type='GN', num_groups=2)))
    outs = head(_feats())
    assert outs['seg_preds'].shape == (2, S + T, 16, 16)
    head.conv_logits.weight.data.zero_()
    head.conv_logits.bias.data.zero_()
    loss = head.loss(_feats(), _samples([[], []]))['loss_seg']
    # mmdet's CE averages over all pixels; a quarter of the GT rows
    # (8 of 64, at 1/4: 2 of 16) are void.
    assert loss.item() == pytest.approx(0.5 * math.log(S + T) * 14 / 16)
    assert SemanticLogits.of(head, outs).split(
        outs['seg_preds'])[1].shape[1] == T
