"""AUNet's PAM against a direct computation of eq. 1-4."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData

from panoptic_zoo.registry import MODELS
from panoptic_zoo.models.contracts import FGContext

SIZES = [(16, 20), (8, 10), (4, 5), (2, 3), (1, 2)]  # P2-P6


def feats(channels, batch=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randn(batch, channels, h, w, generator=gen) for h, w in SIZES)


def context(bg, rpn):
    return FGContext(
        feats=bg,
        proposals=[InstanceData() for _ in range(bg[0].shape[0])],
        rpn_feats=rpn)


def randomise(module, seed=1):
    """Fixed non-trivial weights (GN's affine too)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn(param.shape, generator=gen) * 0.5)


def reference(bg, rpn, pam, num_groups):
    """Eq. 1-4 written out with the module's weights."""
    outs = []
    for level, (s, p) in enumerate(zip(bg, rpn)):
        if level >= pam.num_levels:
            outs.append(s)
            continue
        conv1, _, conv2 = pam.attention_convs[level]
        m = F.conv2d(
            F.relu(F.conv2d(p, conv1.weight, conv1.bias)), conv2.weight,
            conv2.bias)  # eq. 1, (B, 1, H, W)
        s1 = s * (1 - torch.sigmoid(m)) + s  # eq. 2-3
        if pam.reweights is not None:
            rw = pam.reweights[level]
            gap = s1.mean(dim=(2, 3), keepdim=True)
            n = torch.sigmoid(
                F.group_norm(
                    F.conv2d(gap, rw.conv.weight, rw.conv.bias), num_groups,
                    rw.norm.weight, rw.norm.bias))  # eq. 4
            s1 = s1 * n
        outs.append(s1)
    return outs


@pytest.mark.parametrize('reweight', [True, False])
def test_pam_equals_formulas(reweight):
    pam = MODELS.build(
        dict(
            type='PAM',
            rpn_channels=6,
            bg_channels=8,
            num_levels=4,
            hidden_channels=5,
            reweight=reweight,
            norm_cfg=dict(type='GN', num_groups=4)))
    randomise(pam)
    bg, rpn = feats(8), feats(6, seed=2)
    outs = pam(bg, context(bg, rpn))
    ref = reference(bg, rpn, pam, num_groups=4)
    assert len(outs) == 5
    for out, exp, s in zip(outs, ref, bg):
        assert out.shape == s.shape
        assert torch.allclose(out, exp, atol=1e-5)
    assert outs[4] is bg[4]  # P6 passes through
    assert not torch.allclose(outs[0], bg[0])


def test_gradients_reach_rpn_feats_and_params():
    pam = MODELS.build(
        dict(
            type='PAM',
            rpn_channels=6,
            bg_channels=8,
            norm_cfg=dict(type='GN', num_groups=4)))
    bg = tuple(f.requires_grad_(True) for f in feats(8))
    rpn = tuple(f.requires_grad_(True) for f in feats(6, seed=2))
    sum(o.square().sum() for o in pam(bg, context(bg, rpn))).backward()
    assert all(r.grad is not None and r.grad.abs().sum() > 0 for r in rpn[:4])
    assert rpn[4].grad is None  # level not attended
    assert all(p.grad is not None for p in pam.parameters())


def test_bad_configs_and_inputs():
    with pytest.raises(ValueError, match='bg_channels must be a positive'):
        MODELS.build(dict(type='PAM', rpn_channels=6, bg_channels=0))
    with pytest.raises(TypeError):
        MODELS.build(dict(type='PAM', rpn_channels=6, bg_channels=8, levels=4))
    pam = MODELS.build(
        dict(
            type='PAM',
            rpn_channels=6,
            bg_channels=8,
            norm_cfg=dict(type='GN', num_groups=4)))
    bg = feats(8)
    with pytest.raises(AttributeError, match='rpn_feats was not given'):
        pam(bg, context(bg, None))
    with pytest.raises(ValueError, match='attends num_levels=4 levels but'):
        pam(bg[:3], context(bg[:3], feats(6)[:3]))
    shifted = feats(6)[1:]
    with pytest.raises(ValueError, match='differ in batch or size'):
        pam(bg, context(bg, shifted))
