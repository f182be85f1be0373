"""One parameter layer per pyramid level, then element-wise fusion."""
import copy
from functools import reduce
from typing import Sequence

import torch
from mmcv.cnn import build_activation_layer
from mmdet.utils import OptConfigType
from torch import Tensor, nn

FUSIONS = ('max', 'sum')


def _reinitialise(module: nn.Module) -> None:
    """Draw fresh initial weights, the way the module was first built.

    mmcv's ``ConvModule`` has ``init_weights`` (Kaiming conv, constant norm);
    plain torch layers have ``reset_parameters``.
    """
    if hasattr(module, 'init_weights'):
        module.init_weights()
        return
    for m in module.modules():
        if hasattr(m, 'reset_parameters'):
            m.reset_parameters()


class PerLevelFusion(nn.Module):
    """The fusion step of PANet's adaptive feature pooling.

    Liu et al., CVPR 2018, Sec. 3.2 / Fig. 6: the RoI features of each level
    go through one parameter layer with that level's own weights, then the
    levels are fused element-wise. The official code
    (``fast_rcnn_heads.py``, ``mask_rcnn_heads.py``, ``*_panet`` heads) uses
    ``torch.max``; ``'sum'`` is the paper's ablation option.

    Heads own one of these in place of their first layer (box head: conv1 of
    the 4conv1fc head or fc6 of the 2fc head; mask head: conv1).

    Args:
        layers (Sequence[nn.Module]): L layers; ``layers[l]`` is applied to
            level l. Each must map its level's features to the same shape.
        fusion (str): ``'max'`` (official) or ``'sum'``.
        act_cfg (dict, optional): Activation applied after each layer, before
            the fusion, for layers without their own (``nn.Linear``).
    """

    def __init__(self,
                 layers: Sequence[nn.Module],
                 *,
                 fusion: str = 'max',
                 act_cfg: OptConfigType = None) -> None:
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(
                f'fusion={fusion!r} is not supported, expected one of '
                f'{FUSIONS}')
        if len(layers) < 1:
            raise ValueError('PerLevelFusion needs at least one layer')
        self.fusion = fusion
        self.layers = nn.ModuleList(layers)
        self.act = (
            build_activation_layer(copy.deepcopy(act_cfg))
            if act_cfg is not None else None)

    @classmethod
    def from_layer(cls,
                   layer: nn.Module,
                   num_levels: int,
                   *,
                   fusion: str = 'max',
                   act_cfg: OptConfigType = None) -> 'PerLevelFusion':
        """Replicate a head's first layer once per level.

        ``layer`` itself serves level 0; levels 1..L-1 get deep copies with
        freshly drawn weights, so no two levels share parameters.

        Args:
            layer (nn.Module): The layer as the head built it.
            num_levels (int): L, the number of pyramid levels.
            fusion (str): ``'max'`` or ``'sum'``.
            act_cfg (dict, optional): See the class.
        """
        if isinstance(num_levels, bool) or not isinstance(num_levels, int) \
                or num_levels < 1:
            raise ValueError(
                f'num_levels must be a positive int, got {num_levels!r}')
        layers = [layer]
        for _ in range(num_levels - 1):
            level_layer = copy.deepcopy(layer)
            _reinitialise(level_layer)
            layers.append(level_layer)
        return cls(layers, fusion=fusion, act_cfg=act_cfg)

    @property
    def num_levels(self) -> int:
        """int: L, the number of levels (and of layers)."""
        return len(self.layers)

    def forward(self, x: Tensor) -> Tensor:
        """Apply each level's layer to its slice and fuse.

        Args:
            x (Tensor): (N, L, *D) per-level RoI features: N RoIs, L levels,
                D the shape the layers take (e.g. (C, h, w) for convs, (F,)
                for fully connected layers).

        Returns:
            Tensor: (N, *D') the fused output; D' is the layers' output
            shape.
        """
        if x.dim() < 3 or x.size(1) != self.num_levels:
            raise ValueError(
                f'expected (N, L={self.num_levels}, ...) per-level RoI '
                f'features (AdaptiveRoIExtractor), got {tuple(x.shape)}')
        outs = []
        for level, layer in enumerate(self.layers):
            out = layer(x[:, level])
            if self.act is not None:
                out = self.act(out)
            outs.append(out)
        if self.fusion == 'max':
            return reduce(torch.maximum, outs)
        return reduce(torch.add, outs)
