"""PerLevelFusion: own weights per level, element-wise max or sum."""
import pytest
import torch
from mmcv.cnn import ConvModule
from torch import nn

from panoptic_zoo.models.layers import PerLevelFusion


def test_from_layer_gives_independent_weights():
    torch.manual_seed(0)
    conv = ConvModule(
        4, 4, 3, padding=1, norm_cfg=dict(type='GN', num_groups=2))
    fuse = PerLevelFusion.from_layer(conv, 3)
    assert fuse.layers[0] is conv and fuse.num_levels == 3
    weights = [layer.conv.weight for layer in fuse.layers]
    assert len({w.data_ptr() for w in weights}) == 3
    for a in range(3):
        for b in range(a + 1, 3):
            assert not torch.allclose(weights[a], weights[b])
    assert len(list(fuse.parameters())) == 3 * len(list(conv.parameters()))


@pytest.mark.parametrize('fusion', ['max', 'sum'])
def test_linear_layers_with_activation(fusion):
    torch.manual_seed(0)
    fuse = PerLevelFusion.from_layer(
        nn.Linear(6, 5), 4, fusion=fusion, act_cfg=dict(type='ReLU'))
    x = torch.randn(3, 4, 6)  # (N, L, F)
    per_level = torch.stack(
        [fuse.layers[lvl](x[:, lvl]).relu() for lvl in range(4)])
    expected = per_level.amax(0) if fusion == 'max' else per_level.sum(0)
    torch.testing.assert_close(fuse(x), expected)


def test_empty_input():
    fuse = PerLevelFusion.from_layer(nn.Linear(6, 5), 2)
    assert fuse(torch.zeros(0, 2, 6)).shape == (0, 5)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="fusion='mean' is not supported"):
        PerLevelFusion.from_layer(nn.Linear(2, 2), 2, fusion='mean')
    with pytest.raises(ValueError, match='num_levels must be a positive'):
        PerLevelFusion.from_layer(nn.Linear(2, 2), 0)
    with pytest.raises(ValueError, match='at least one layer'):
        PerLevelFusion([])
    fuse = PerLevelFusion.from_layer(nn.Linear(2, 2), 4)
    with pytest.raises(ValueError, match=r'expected \(N, L=4, ...\)'):
        fuse(torch.zeros(3, 2, 2))
