"""AUNet's background reweight: a channel gate from global context."""
import copy

import torch
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmdet.utils import ConfigType, OptMultiConfig
from torch import Tensor, nn

from panoptic_zoo.registry import MODELS


@MODELS.register_module()
class BackgroundReweight(BaseModule):
    """``N = sigmoid(GN(conv1x1(GAP(S')))); S'' = S' ⊙ N`` (AUNet, Li et
    al., CVPR 2019, eq. 4).

    One weight per channel and image, from the globally pooled features, so
    the BG branch can turn down channels the FG attention made noisy. The
    paper writes the norm as GN; any mmcv norm config works. Shapes: B
    images, C channels, H × W cells.

    Args:
        channels (int): C, channels of S'.
        norm_cfg (dict): Norm after the 1×1 conv. Defaults to GN with 32
            groups.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 *,
                 channels: int,
                 norm_cfg: ConfigType = dict(
                     type='GN', num_groups=32, requires_grad=True),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(channels, int) or channels < 1:
            raise ValueError('BackgroundReweight: channels must be a '
                             f'positive int, got {channels!r}')
        self.conv = nn.Conv2d(channels, channels, 1)
        # build_norm_layer pops keys: give it a copy of the caller's dict.
        self.norm_name, norm = build_norm_layer(
            copy.deepcopy(norm_cfg), channels)
        self.add_module(self.norm_name, norm)

    @property
    def norm(self) -> nn.Module:
        return getattr(self, self.norm_name)

    def forward(self, feat: Tensor) -> Tensor:
        """Reweight the channels of ``feat``.

        Args:
            feat (Tensor): S', (B, C, H, W).

        Returns:
            Tensor: S'', (B, C, H, W).
        """
        context = feat.mean(dim=(2, 3), keepdim=True)  # GAP, (B, C, 1, 1)
        weight = torch.sigmoid(self.norm(self.conv(context)))  # (B, C, 1, 1)
        return feat * weight
