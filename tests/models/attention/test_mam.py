"""AUNet's MAM against a direct computation: masks pasted by RoIUpsample
on FPN's levels, then PAM's attention and reweight."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmcv.ops import roi_align
from mmengine.structures import InstanceData

from panoptic_zoo.models.attention import fpn_roi_levels
from panoptic_zoo.registry import MODELS
from panoptic_zoo.models.contracts import FGContext

STRIDES = (4, 8, 16, 32)
SIZES = [(32, 40), (16, 20), (8, 10), (4, 5), (2, 3)]  # 128×160 input
M = 6  # mask side


def bg_feats(channels=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randn(2, channels, h, w, generator=gen) for h, w in SIZES)


def instances(seed=0):
    """Per image: boxes from tiny to larger than the image (every level),
    some crossing the border, with random mask logits."""
    gen = torch.Generator().manual_seed(seed)
    boxes = [
        torch.tensor([[-10., -10., 30., 20.], [20., 30., 100., 110.],
                      [10., 5., 150., 130.], [-50., -40., 200., 180.],
                      [-300., -300., 400., 400.]]),
        torch.tensor([[100., 90., 170., 140.], [3., 4., 9., 12.],
                      [0., 0., 160., 128.]])
    ]
    return [
        InstanceData(
            bboxes=b,
            labels=torch.zeros(len(b), dtype=torch.long),
            mask_logits=torch.randn(len(b), M, M, generator=gen))
        for b in boxes
    ]


def build_mam(**kwargs):
    cfg = dict(
        type='MAM',
        bg_channels=8,
        hidden_channels=4,
        norm_cfg=dict(type='GN', num_groups=4))
    cfg.update(kwargs)
    mam = MODELS.build(cfg)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for param in mam.parameters():
            param.copy_(torch.randn(param.shape, generator=gen) * 0.5)
    return mam


def naive_normalized_paste(values, box, size, scale):
    """Eq. 5-6 one sample at a time (aligned, adaptive sampling)."""
    out = torch.zeros(size, dtype=torch.float64)
    height, width = size
    x1, y1, x2, y2 = (float(v) * scale - 0.5 for v in box)
    bin_h, bin_w = (y2 - y1) / M, (x2 - x1) / M
    grid_h, grid_w = math.ceil((y2 - y1) / M), math.ceil((x2 - x1) / M)
    for i in range(M):
        for j in range(M):
            for iy in range(grid_h):
                for ix in range(grid_w):
                    y = y1 + i * bin_h + (iy + .5) * bin_h / grid_h
                    x = x1 + j * bin_w + (ix + .5) * bin_w / grid_w
                    if y < -1 or y > height or x < -1 or x > width:
                        continue
                    y, x = max(y, 0.), max(x, 0.)
                    y0, x0 = min(int(y), height - 1), min(int(x), width - 1)
                    y, x = min(y, height - 1.), min(x, width - 1.)
                    ly, lx = y - y0, x - x0
                    y1n, x1n = min(y0 + 1, height - 1), min(x0 + 1, width - 1)
                    value = ((1 - ly)**2 + ly**2) * ((1 - lx)**2 + lx**2)
                    for yy, wy in ((y0, 1 - ly), (y1n, ly)):
                        for xx, wx in ((x0, 1 - lx), (x1n, lx)):
                            out[yy, xx] += values[i, j] * wy * wx / value
    return out


def pasted_maps(insts, normalize):
    """U_l computed without roi_upsample: the exact mode as the vector-
    Jacobian product of mmcv's roi_align, the normalised one naively."""
    rois = torch.cat([
        torch.cat([torch.full((len(i), 1), float(b)), i.bboxes], 1)
        for b, i in enumerate(insts)
    ])
    probs = torch.cat([i.mask_logits for i in insts]).sigmoid()
    levels = fpn_roi_levels(rois, 4)
    maps = []
    for level, stride in enumerate(STRIDES):
        keep = levels == level
        size = SIZES[level]
        if normalize:
            u = torch.zeros(2, 1, *size, dtype=torch.float64)
            for roi, prob in zip(rois[keep], probs[keep]):
                u[int(roi[0]),
                  0] += naive_normalized_paste(prob.double(), roi[1:], size,
                                               1 / stride)
            maps.append(u.float())
            continue
        x = torch.zeros(2, 1, *size, requires_grad=True)
        pooled = roi_align(x, rois[keep], M, 1 / stride, 0, 'avg', True)
        u, = torch.autograd.grad(pooled, x, probs[keep][:, None])
        maps.append(u)
    return maps, levels


@pytest.mark.parametrize('normalize', [False, True])
def test_mam_equals_formulas(normalize):
    mam = build_mam(normalize=normalize)
    bg, insts = bg_feats(), instances()
    fg = FGContext(feats=bg, proposals=[], instances=insts)
    outs = mam(bg, fg)
    maps, levels = pasted_maps(insts, normalize)
    assert set(levels.tolist()) == {0, 1, 2, 3}
    for level, (u, got) in enumerate(zip(maps, mam.fg_maps(bg[:4], fg))):
        assert torch.allclose(got, u, atol=1e-5), level
        s = bg[level]
        conv1, _, conv2 = mam.attention_convs[level]
        m = F.conv2d(
            F.relu(F.conv2d(u, conv1.weight, conv1.bias)), conv2.weight,
            conv2.bias)
        s1 = s * (1 - torch.sigmoid(m)) + s
        rw = mam.reweights[level]
        n = torch.sigmoid(
            F.group_norm(
                F.conv2d(
                    s1.mean(dim=(2, 3), keepdim=True), rw.conv.weight,
                    rw.conv.bias), 4, rw.norm.weight, rw.norm.bias))
        assert torch.allclose(outs[level], s1 * n, atol=1e-5)
    assert outs[4] is bg[4]


def test_levels_follow_fpn_rule():
    rois = torch.tensor([[0, 0, 0, 50, 50], [0, 0, 0, 112, 112],
                         [0, 0, 0, 300, 300], [0, 0, 0, 2000, 2000]])
    assert fpn_roi_levels(rois.float(), 4).tolist() == [0, 1, 2, 3]


def test_empty_instances_and_gradients():
    mam = build_mam()
    bg = bg_feats()
    empty = [
        InstanceData(
            bboxes=torch.zeros(0, 4),
            labels=torch.zeros(0, dtype=torch.long),
            mask_logits=torch.zeros(0, M, M)) for _ in range(2)
    ]
    outs = mam(bg, FGContext(feats=bg, proposals=[], instances=empty))
    assert [o.shape for o in outs] == [f.shape for f in bg]
    # Gradients reach the mask logits (the mask head) and every parameter.
    insts = instances()
    for inst in insts:
        inst.mask_logits.requires_grad_(True)
    outs = mam(bg, FGContext(feats=bg, proposals=[], instances=insts))
    sum(o.square().sum() for o in outs).backward()
    assert all(i.mask_logits.grad.abs().sum() > 0 for i in insts)
    assert all(p.grad is not None for p in mam.parameters())


def test_bad_configs_and_inputs():
    with pytest.raises(ValueError, match='one positive stride per attended'):
        MODELS.build(dict(type='MAM', bg_channels=8, strides=(4, 8)))
    with pytest.raises(TypeError):
        MODELS.build(dict(type='MAM', bg_channels=8, normalise=True))
    mam = build_mam()
    bg = bg_feats()
    with pytest.raises(AttributeError, match='instances was not given'):
        mam(bg, FGContext(feats=bg, proposals=[]))
    no_logits = [InstanceData(bboxes=torch.zeros(0, 4))] * 2
    with pytest.raises(ValueError, match='MAM needs FGContext.instances'):
        mam(bg, FGContext(feats=bg, proposals=[], instances=no_logits))
    with pytest.raises(ValueError, match='1 instance sets for a batch of 2'):
        mam(bg, FGContext(feats=bg, proposals=[], instances=instances()[:1]))
    wrong = build_mam(strides=(4, 8, 8, 16))
    with pytest.raises(ValueError, match='do not fit the BG levels'):
        wrong(bg, FGContext(feats=bg, proposals=[], instances=instances()))
