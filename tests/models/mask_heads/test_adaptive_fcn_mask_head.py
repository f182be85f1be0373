"""AdaptiveFCNMaskHead: conv1 per level, fused, then mmdet's FCNMaskHead."""
import pytest
import torch
from mmdet.models.roi_heads.mask_heads import FCNMaskHead

from panoptic_zoo.models.mask_heads import AdaptiveFCNMaskHead
from panoptic_zoo.registry import MODELS

C, K, L = 8, 3, 4
GN = dict(type='GN', num_groups=2, requires_grad=True)


def _head(**overrides):
    cfg = dict(
        num_levels=L,
        num_convs=4,
        in_channels=C,
        conv_out_channels=C,
        num_classes=K,
        norm_cfg=GN)
    cfg.update(overrides)
    return AdaptiveFCNMaskHead(**cfg)


def _randomise(head, seed=1):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in head.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    return head


def _x(n=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, L, C, 14, 14, generator=gen)


@pytest.mark.parametrize('fusion', ['max', 'sum'])
def test_equals_fcn_head_on_fused_conv1(fusion):
    ours = _randomise(_head(fusion=fusion)).eval()
    # mmdet's head with conv2..conv4 only, fed the fused conv1 output.
    ref = FCNMaskHead(
        num_convs=3,
        in_channels=C,
        conv_out_channels=C,
        num_classes=K,
        norm_cfg=GN).eval()
    ref.load_state_dict({
        k: v
        for k, v in ours.state_dict().items()
        if not k.startswith('level_fusion.')
    })
    x = _x()
    per_level = torch.stack(
        [ours.level_fusion.layers[lvl](x[:, lvl]) for lvl in range(L)])
    conv1 = per_level.amax(0) if fusion == 'max' else per_level.sum(0)
    out = ours(x)
    assert out.shape == (3, K, 28, 28)
    torch.testing.assert_close(out, ref(conv1))


def test_without_levels_is_fcn_mask_head():
    ours = _randomise(_head(num_levels=None)).eval()
    ref = FCNMaskHead(
        num_convs=4,
        in_channels=C,
        conv_out_channels=C,
        num_classes=K,
        norm_cfg=GN).eval()
    ref.load_state_dict(ours.state_dict(), strict=True)
    x = _x()[:, 0]
    torch.testing.assert_close(ours(x), ref(x))


def test_gradients_reach_every_level():
    head = _head()
    x = _x().requires_grad_()
    gen = torch.Generator().manual_seed(3)
    out = head(x)
    (out * torch.randn(out.shape, generator=gen)).sum().backward()
    for lvl in range(L):
        assert x.grad[:, lvl].abs().sum() > 0, lvl
        conv = head.level_fusion.layers[lvl].conv
        assert conv.weight.grad.abs().sum() > 0, lvl


def test_empty_input():
    assert _head()(torch.zeros(0, L, C, 14, 14)).shape == (0, K, 28, 28)


def test_bad_configs_and_inputs_raise():
    with pytest.raises(ValueError, match='num_convs must be >= 1'):
        _head(num_convs=0)
    with pytest.raises(TypeError, match='num_conv'):
        MODELS.build(
            dict(type='AdaptiveFCNMaskHead', num_conv=4, in_channels=C))
    with pytest.raises(ValueError, match=r'expects \(N, L, C, h, w\)'):
        _head()(torch.zeros(2, C, 14, 14))
    with pytest.raises(ValueError, match='num_levels=None. expects'):
        _head(num_levels=None)(_x())
