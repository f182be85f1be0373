"""SyncFreeFCNMaskHead / device_mask_targets: mmdet's mask targets, bit for
bit, computed on the proposals' device without host syncs.

mmdet's ``mask_target`` clips CPU proposals in place (through the numpy view
of ``pos_proposals.cpu()``), so every call to it below gets copies: a
shared input would hide a missing clip in ours.
"""
import copy

import numpy as np
import pytest
import torch
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks, PolygonMasks, mask_target
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from panoptic_zoo.models.mask_heads import FCFusionMaskHead
from panoptic_zoo.models.roi_heads import (AdaptiveFCNMaskHead,
                                           SyncFreeFCNMaskHead,
                                           device_mask_targets)
from panoptic_zoo.models.roi_heads.device_mask_targets import upload_masks
from panoptic_zoo.registry import MODELS, TASK_UTILS
from panoptic_zoo.testing import HostSyncCounter

# (H, W, number of gts) per image: different sizes and gt counts.
IMAGES = [(37, 53, 5), (48, 31, 1), (29, 40, 3)]


def _blob_masks(rng, num_gts, h, w):
    """(num_gts, h, w) uint8 masks, each a union of a few random ellipses
    and rectangles (boundaries at all angles and sub-pixel positions)."""
    yy, xx = np.mgrid[:h, :w]
    masks = np.zeros((num_gts, h, w), dtype=np.uint8)
    for mask in masks:
        for _ in range(rng.randint(1, 4)):
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            ry, rx = rng.uniform(2, h / 2), rng.uniform(2, w / 2)
            if rng.rand() < 0.5:
                blob = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 <= 1
            else:
                blob = (abs(yy - cy) <= ry) & (abs(xx - cx) <= rx)
            mask[blob] = 1
    return masks


def _proposals(rng, num, h, w, mask_size):
    """(num, 4) float32 boxes: ordinary ones, boxes crossing the image
    borders (the clip matters), tiny (< 1 px) and huge boxes, and boxes of
    1 px bins offset by half a pixel (one sample per bin, midway between 4
    pixel centres: many exact 0.5 values, so ``>=`` vs ``>`` matters)."""
    mh, mw = mask_size
    boxes = []
    for i in range(num):
        kind = i % 5
        if kind == 0:  # ordinary
            x1, y1 = rng.uniform(0, w - 2), rng.uniform(0, h - 2)
            x2, y2 = rng.uniform(x1 + 1, w), rng.uniform(y1 + 1, h)
        elif kind == 1:  # crossing the borders
            x1, y1 = rng.uniform(-15, w / 2), rng.uniform(-15, h / 2)
            x2, y2 = rng.uniform(w / 2, w + 15), rng.uniform(h / 2, h + 15)
        elif kind == 2:  # tiny
            x1, y1 = rng.uniform(-1, w), rng.uniform(-1, h)
            x2, y2 = x1 + rng.uniform(0, 0.8), y1 + rng.uniform(0, 0.8)
        elif kind == 3:  # huge
            x1, y1 = rng.uniform(-3 * w, 0), rng.uniform(-3 * h, 0)
            x2, y2 = rng.uniform(w, 4 * w), rng.uniform(h, 4 * h)
        else:  # 1 px bins, each sampled once midway between 4 pixels
            x1 = rng.randint(0, w - mw) + 0.5
            y1 = rng.randint(0, h - mh) + 0.5
            x2, y2 = x1 + mw, y1 + mh
        boxes.append([x1, y1, x2, y2])
    return torch.tensor(boxes, dtype=torch.float32)


def _batch(mask_size, seed=0, num_pos=(23, 9, 17)):
    """Proposals, assigned gt indices and BitmapMasks of IMAGES; gt 0 of
    each image is assigned to about half the RoIs."""
    rng = np.random.RandomState(seed)
    proposals, inds, masks = [], [], []
    for (h, w, num_gts), n in zip(IMAGES, num_pos):
        masks.append(BitmapMasks(_blob_masks(rng, num_gts, h, w), h, w))
        proposals.append(_proposals(rng, n, h, w, mask_size))
        assigned = rng.randint(0, num_gts, n)
        assigned[rng.rand(n) < 0.5] = 0
        inds.append(torch.from_numpy(assigned).long())
    return proposals, inds, masks


def _mmdet(proposals, inds, masks, mask_size, binarize=True):
    cfg = ConfigDict(mask_size=mask_size, soft_mask_target=not binarize)
    return mask_target([p.clone() for p in proposals],
                       [i.clone() for i in inds], masks, cfg)


def _ours(proposals, inds, masks, mask_size, binarize=True):
    before = [p.clone() for p in proposals]
    out = device_mask_targets(proposals, inds, masks, mask_size, binarize)
    for p, b in zip(proposals, before):  # no clip in place
        assert torch.equal(p, b)
    return out


@pytest.mark.parametrize('binarize', [True, False])
@pytest.mark.parametrize('mask_size', [28, (14, 20)])
def test_equals_mmdet_bit_for_bit(mask_size, binarize):
    proposals, inds, masks = _batch(
        mask_size if isinstance(mask_size, tuple) else (mask_size, ) * 2)
    expected = _mmdet(proposals, inds, masks, mask_size, binarize)
    ours = _ours(proposals, inds, masks, mask_size, binarize)
    size = mask_size if isinstance(mask_size, tuple) else (mask_size, ) * 2
    assert ours.shape == (23 + 9 + 17, *size)
    assert ours.dtype == expected.dtype == torch.float32
    assert torch.equal(ours, expected)
    if binarize:
        assert 0 < ours.mean() < 1  # both values present
    else:
        # The fixture reaches the threshold's edge and is not binary.
        assert (ours == 0.5).sum() > 10
        assert ((ours > 0) & (ours < 1) & (ours != 0.5)).any()


def test_soft_targets_threshold_to_hard_ones():
    """The binarisation is mmdet's ``>= 0.5`` of the soft values."""
    proposals, inds, masks = _batch((28, 28), seed=1)
    soft = _ours(proposals, inds, masks, 28, binarize=False)
    hard = _ours(proposals, inds, masks, 28, binarize=True)
    assert torch.equal(hard, (soft >= 0.5).float())


def test_empty_positives_and_empty_gts_as_mmdet():
    proposals, inds, masks = _batch((28, 28), seed=2)
    # Image 1: no positive RoI.
    proposals[1], inds[1] = proposals[1][:0], inds[1][:0]
    # Image 2: no gt and no positive (what an assigner gives).
    h, w, _ = IMAGES[2]
    masks[2] = BitmapMasks(np.empty((0, h, w), np.uint8), h, w)
    proposals[2], inds[2] = proposals[2][:0], inds[2][:0]
    expected = _mmdet(proposals, inds, masks, 28)
    ours = _ours(proposals, inds, masks, 28)
    assert ours.shape == (23, 28, 28)
    assert torch.equal(ours, expected)

    # No positives at all: a (0, h, w) tensor, not a list.
    empty = [p[:0] for p in proposals], [i[:0] for i in inds]
    ours = _ours(*empty, masks, (14, 20))
    assert ours.shape == (0, 14, 20) and ours.dtype == torch.float32
    assert torch.equal(ours, _mmdet(*empty, masks, (14, 20)))


def test_positives_without_gts_as_mmdet():
    """mmdet's ``crop_and_resize`` returns no row at all for an image with
    positives but no gt masks (fewer targets than positives); we match."""
    proposals, inds, masks = _batch((28, 28), seed=3)
    h, w, _ = IMAGES[1]
    masks[1] = BitmapMasks(np.empty((0, h, w), np.uint8), h, w)
    expected = _mmdet(proposals, inds, masks, 28)
    ours = _ours(proposals, inds, masks, 28)
    assert ours.shape == expected.shape == (23 + 17, 28, 28)
    assert torch.equal(ours, expected)


def _polygon_masks(rng, num_gts, h, w):
    """Random star-shaped polygons, some crossing the image borders."""
    polys = []
    for _ in range(num_gts):
        parts = []
        for _ in range(rng.randint(1, 3)):
            n = rng.randint(3, 9)
            angles = np.sort(rng.uniform(0, 2 * np.pi, n))
            radii = rng.uniform(2, min(h, w) / 2, n)
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            xy = np.stack(
                [cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1)
            parts.append(xy.reshape(-1))
        polys.append(parts)
    return PolygonMasks(polys, h, w)


def test_polygon_masks_fall_back_to_mmdet():
    proposals, inds, _ = _batch((28, 28), seed=4)
    rng = np.random.RandomState(4)
    masks = [_polygon_masks(rng, n, h, w) for h, w, n in IMAGES]
    expected = _mmdet(proposals, inds, masks, (14, 20))
    ours = _ours(proposals, inds, masks, (14, 20))
    assert ours.shape == (23 + 9 + 17, 14, 20)
    assert 0 < ours.mean() < 1
    assert torch.equal(ours, expected)
    # Mixed kinds in one batch: each image on its own path.
    _, _, bitmaps = _batch((28, 28), seed=4)
    mixed = [bitmaps[0], masks[1], bitmaps[2]]
    expected = _mmdet(proposals, inds, mixed, 28)
    assert torch.equal(_ours(proposals, inds, mixed, 28), expected)


def test_polygon_soft_targets_raise_as_mmdet():
    proposals, inds, _ = _batch((28, 28), seed=4)
    rng = np.random.RandomState(4)
    masks = [_polygon_masks(rng, n, h, w) for h, w, n in IMAGES]
    with pytest.raises(ValueError, match='binarize=False'):
        _mmdet(proposals, inds, masks, 28, binarize=False)
    with pytest.raises(ValueError, match='binarize=False'):
        _ours(proposals, inds, masks, 28, binarize=False)


def test_box_objects_as_mmdet():
    """mmdet also takes ``HorizontalBoxes`` proposals."""
    proposals, inds, masks = _batch((28, 28), seed=7)
    boxes = [HorizontalBoxes(p) for p in proposals]
    ours = device_mask_targets(boxes, inds, masks, 28)
    assert torch.equal(ours, _mmdet(proposals, inds, masks, 28))


def test_bitmap_path_makes_no_host_sync_while_mmdet_does():
    proposals, inds, masks = _batch((28, 28), seed=5)
    for binarize in (True, False):
        with HostSyncCounter() as ours:
            device_mask_targets(proposals, inds, masks, 28, binarize)
        assert ours.num_syncs == 0, ours.syncs
        assert ours.calls['clamp_'] > 0  # the counter saw our calls
        assert ours.calls['index_select'] == 0  # no full mask per RoI
    with HostSyncCounter() as theirs:
        _mmdet(proposals, inds, masks, 28)
    assert theirs.syncs['cpu'] > 0 and theirs.syncs['numpy'] > 0
    assert theirs.calls['index_select'] > 0


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')
def test_on_cuda_equals_mmdet_without_stream_syncs():
    proposals, inds, masks = _batch((28, 28), seed=6)
    proposals = [p.cuda() for p in proposals]
    inds = [i.cuda() for i in inds]
    expected = _mmdet(proposals, inds, masks, 28)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        ours = device_mask_targets(proposals, inds, masks, 28)
    finally:
        torch.cuda.set_sync_debug_mode('default')
    assert ours.device == expected.device
    assert torch.equal(ours, expected)


# --- the head ---------------------------------------------------------------

HEAD = dict(
    num_convs=1,
    in_channels=8,
    conv_out_channels=8,
    num_classes=3,
    init_cfg=None)


def _mask_boxes(masks):
    """(N, 4) float boxes around (N, H, W) masks."""
    boxes = []
    for mask in masks:
        ys, xs = np.nonzero(mask)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    return torch.tensor(boxes, dtype=torch.float32)


def _sampling_results(seed=0):
    """Real sampling results (mmdet's MaxIoUAssigner and RandomSampler, gts
    added as proposals) and gt instances for IMAGES."""
    rng = np.random.RandomState(seed)
    torch.manual_seed(seed)
    assigner = TASK_UTILS.build(
        dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.5,
            min_pos_iou=0.5,
            match_low_quality=True,
            ignore_iof_thr=-1))
    sampler = TASK_UTILS.build(
        dict(
            type='RandomSampler',
            num=32,
            pos_fraction=0.5,
            neg_pos_ub=-1,
            add_gt_as_proposals=True))
    results, gts = [], []
    for h, w, num_gts in IMAGES:
        masks = BitmapMasks(_blob_masks(rng, num_gts, h, w), h, w)
        bboxes = _mask_boxes(masks.masks)
        gt = InstanceData(
            bboxes=bboxes,
            labels=torch.from_numpy(rng.randint(0, 3, num_gts)).long(),
            masks=masks)
        # Jittered gts (positives, some crossing the borders) and noise.
        jitter = bboxes.repeat(6, 1) + torch.from_numpy(
            rng.uniform(-6, 6, (6 * num_gts, 4))).float()
        noise = _proposals(rng, 12, h, w, (28, 28))
        pred = InstanceData(priors=torch.cat([jitter, noise]))
        assign = assigner.assign(pred, gt)
        results.append(sampler.sample(assign, pred, gt))
        gts.append(gt)
    assert all(
        r.pos_priors.size(0) > num_gts
        for r, (_, _, num_gts) in zip(results, IMAGES))
    return results, gts


# Our own mask heads (PANet's) build their targets with the mixin too.
@pytest.mark.parametrize(
    'head_type', [SyncFreeFCNMaskHead, AdaptiveFCNMaskHead, FCFusionMaskHead])
@pytest.mark.parametrize('soft', [False, True])
def test_get_targets_equals_fcn_mask_head(soft, head_type):
    results, gts = _sampling_results()
    cfg = ConfigDict(mask_size=28, soft_mask_target=soft)
    ref = FCNMaskHead(**HEAD)
    ours = head_type(**dict(HEAD, num_convs=2))  # FCFusion needs >= 2
    # Copies for mmdet: it clips CPU pos_priors in place.
    expected = ref.get_targets(copy.deepcopy(results), gts, cfg)
    before = [r.pos_priors.clone() for r in results]
    targets = ours.get_targets(results, gts, cfg)
    assert targets.shape == (sum(r.pos_priors.size(0)
                                 for r in results), 28, 28)
    assert torch.equal(targets, expected)
    assert all(torch.equal(r.pos_priors, b) for r, b in zip(results, before))


def test_head_trains_like_fcn_mask_head():
    ours = MODELS.build(dict(type='SyncFreeFCNMaskHead', **HEAD))
    assert isinstance(ours, SyncFreeFCNMaskHead)
    ref = FCNMaskHead(**HEAD)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in ours.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    ref.load_state_dict(ours.state_dict())
    results, gts = _sampling_results(seed=1)
    cfg = ConfigDict(mask_size=28)
    num_pos = sum(r.pos_priors.size(0) for r in results)
    feats = torch.randn(num_pos, 8, 14, 14)

    out = ours.loss_and_target(ours(feats), results, gts, cfg)
    expected = ref.loss_and_target(
        ref(feats), copy.deepcopy(results), gts, cfg)
    loss, ref_loss = out['loss_mask']['loss_mask'], expected['loss_mask'][
        'loss_mask']
    assert torch.equal(out['mask_targets'], expected['mask_targets'])
    assert torch.isfinite(loss) and loss > 0
    assert torch.equal(loss, ref_loss)
    loss.backward()
    ref_loss.backward()
    ref_grads = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
        assert torch.equal(p.grad, ref_grads[name].grad), name


@pytest.mark.parametrize('dtype', [np.uint8, np.bool_])
@pytest.mark.parametrize('width', [16, 13, 1])
def test_upload_masks_as_bits_gives_the_masks(dtype, width):
    rng = np.random.default_rng(5)
    masks = (rng.random((4, 7, width)) < 0.4).astype(dtype)
    masks[0] = 1  # a full row of bits
    for pack in (True, False):
        out = upload_masks(masks, torch.device('cpu'), pack=pack)
        assert out.dtype == torch.from_numpy(masks).dtype
        assert torch.equal(out, torch.from_numpy(masks))


def test_upload_masks_keeps_non_binary_values_and_empty():
    # Soft or 0/255 masks are not bits: they go up as they are.
    masks = np.array([[[0, 255, 3], [1, 0, 2]]], np.uint8)
    assert torch.equal(
        upload_masks(masks, torch.device('cpu')), torch.from_numpy(masks))
    flipped = masks[:, ::-1, ::-1]  # a view with negative strides
    for pack in (True, False):
        assert torch.equal(
            upload_masks(flipped, torch.device('cpu'), pack=pack),
            torch.from_numpy(flipped.copy()))
    empty = np.zeros((0, 5, 9), np.uint8)
    assert upload_masks(empty, torch.device('cpu')).shape == (0, 5, 9)
