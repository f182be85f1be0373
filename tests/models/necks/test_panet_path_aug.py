"""PANetPathAug computes the official PANet recursion, not mmdet's PAFPN."""
import pytest
import torch
import torch.nn.functional as F
from mmdet.models.necks import PAFPN

from panoptic_zoo.models.necks import PANetPathAug
from panoptic_zoo.registry import MODELS

IN_CHANNELS = [4, 8, 16, 32]
WIDTH = 8
GN = dict(type='GN', num_groups=2, requires_grad=True)


def _inputs(seed=0, size=32, batch=2):
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.randn(batch, c, size >> i, size >> i, generator=gen)
        for i, c in enumerate(IN_CHANNELS)
    ]


def _randomise(module, seed=1):
    """Random values everywhere, GN affine and biases included, so that no
    term of the formula can hide behind a 1 or a 0."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    return module


def _conv_gn(cm, x, relu):
    """One ConvModule (conv [+ bias] -> GN [-> ReLU]) from its weights."""
    conv = cm.conv
    y = F.conv2d(x, conv.weight, conv.bias, conv.stride, conv.padding)
    if cm.with_norm:
        y = F.group_norm(y, cm.norm.num_groups, cm.norm.weight, cm.norm.bias,
                         cm.norm.eps)
    return y.relu() if relu else y


def _hand_built(neck, inputs, relu=True):
    """FPN top-down, then N2 = P2, N(i+1) = f(P(i+1) + g(N(i))), P6."""
    lat = [_conv_gn(cm, x, False) for cm, x in zip(neck.lateral_convs, inputs)]
    for i in range(len(lat) - 1, 0, -1):
        lat[i - 1] = lat[i - 1] + F.interpolate(
            lat[i], size=lat[i - 1].shape[2:], mode='nearest')
    p = [_conv_gn(cm, x, False) for cm, x in zip(neck.fpn_convs, lat)]
    n = [p[0]]
    for i in range(len(p) - 1):
        down = _conv_gn(neck.downsample_convs[i], n[i], relu)
        n.append(_conv_gn(neck.pafpn_convs[i], p[i + 1] + down, relu))
    n.append(n[-1][:, :, ::2, ::2])  # max_pool2d(kernel 1, stride 2)
    return n


def test_equals_hand_built_recursion():
    torch.manual_seed(0)
    neck = _randomise(
        PANetPathAug(in_channels=IN_CHANNELS, out_channels=WIDTH, norm_cfg=GN))
    outs = neck(_inputs())
    expected = _hand_built(neck, _inputs())
    assert len(outs) == 5
    for level, (out, ref) in enumerate(zip(outs, expected)):
        torch.testing.assert_close(out, ref, msg=f'level {level}')
    # Bottom-up outputs end in ReLU; P2 (= N2) has none.
    assert all((o >= 0).all() for o in outs[1:])
    assert (outs[0] < 0).any()


def test_non_gn_variant_has_no_relu():
    torch.manual_seed(0)
    neck = _randomise(
        PANetPathAug(
            in_channels=IN_CHANNELS,
            out_channels=WIDTH,
            norm_cfg=None,
            bottom_up_act_cfg=None))
    outs = neck(_inputs())
    for out, ref in zip(outs, _hand_built(neck, _inputs(), relu=False)):
        torch.testing.assert_close(out, ref)
    assert (outs[2] < 0).any()


def test_differs_from_mmdet_pafpn_with_same_weights():
    """Same parameters, same top-down path: only the bottom-up recursion
    (and its ReLU) differs, and it changes every level above N2."""
    torch.manual_seed(0)
    pafpn = _randomise(
        PAFPN(IN_CHANNELS, WIDTH, 5, norm_cfg=GN), seed=2).eval()
    ours = PANetPathAug(
        in_channels=IN_CHANNELS,
        out_channels=WIDTH,
        norm_cfg=GN,
        bottom_up_bias='auto').eval()
    # Parameter names are PAFPN's: its checkpoint loads strictly.
    ours.load_state_dict(pafpn.state_dict(), strict=True)
    ref, out = pafpn(_inputs()), ours(_inputs())
    torch.testing.assert_close(out[0], ref[0])  # N2 = P2 in both
    for level in range(1, 5):
        assert not torch.allclose(out[level], ref[level], atol=1e-3), level
    # ours is the paper's formula, PAFPN is the pre-conv-sum recursion.
    for a, b in zip(out, _hand_built(ours, _inputs())):
        torch.testing.assert_close(a, b)


def test_default_config_official_shapes_and_p6():
    neck = MODELS.build(
        dict(type='PANetPathAug', in_channels=[16, 32, 64, 128]))
    assert neck.out_channels == 256 and neck.num_outs == 5
    assert neck.downsample_convs[0].norm.num_groups == 32
    assert neck.downsample_convs[0].conv.bias is not None  # official bias
    assert neck.lateral_convs[0].conv.bias is None  # GN, mmdet's FPN
    assert not neck.lateral_convs[0].with_activation
    assert not neck.fpn_convs[0].with_activation
    feats = [
        torch.randn(1, c, 64 >> i, 64 >> i)
        for i, c in enumerate([16, 32, 64, 128])
    ]
    outs = neck(feats)
    assert [tuple(o.shape[2:]) for o in outs] == [(64, 64), (32, 32), (16, 16),
                                                  (8, 8), (4, 4)]
    torch.testing.assert_close(outs[4], F.max_pool2d(outs[3], 1, stride=2))


def test_gradients_reach_every_level():
    neck = PANetPathAug(
        in_channels=IN_CHANNELS, out_channels=WIDTH, norm_cfg=GN)
    inputs = [x.requires_grad_() for x in _inputs()]
    # A random projection: plain sums of GN outputs have zero gradient.
    gen = torch.Generator().manual_seed(5)
    sum((o * torch.randn(o.shape, generator=gen)).sum()
        for o in neck(inputs)).backward()
    for level, x in enumerate(inputs):
        assert x.grad is not None and x.grad.abs().sum() > 0, level
    for name, p in neck.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_config_not_mutated():
    cfg = dict(
        type='PANetPathAug',
        in_channels=IN_CHANNELS,
        out_channels=WIDTH,
        norm_cfg=dict(GN))
    before = repr(cfg)
    MODELS.build(cfg)
    assert repr(cfg) == before


def test_bad_configs_raise():
    with pytest.raises(ValueError, match='num_outs=3 must be at least'):
        PANetPathAug(
            in_channels=IN_CHANNELS,
            out_channels=WIDTH,
            num_outs=3,
            norm_cfg=GN)
    with pytest.raises(TypeError, match='in_channels must be a non-empty'):
        PANetPathAug(in_channels=16, out_channels=WIDTH)
    with pytest.raises(TypeError, match='upsampel_cfg'):
        MODELS.build(
            dict(
                type='PANetPathAug',
                in_channels=IN_CHANNELS,
                upsampel_cfg=dict(mode='nearest')))
    neck = PANetPathAug(
        in_channels=IN_CHANNELS, out_channels=WIDTH, norm_cfg=GN)
    with pytest.raises(ValueError, match='got 3 input levels, expected 4'):
        neck(_inputs()[:3])
