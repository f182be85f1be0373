"""PANet bottom-up path augmentation, as the official code computes it."""
from typing import List, Tuple, Union

import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.models.necks import FPN
from mmdet.utils import ConfigType, MultiConfig, OptConfigType
from torch import Tensor, nn

from panoptic_zoo.registry import MODELS


@MODELS.register_module()
class PANetPathAug(FPN):
    """FPN followed by PANet's bottom-up path augmentation.

    Liu et al., "Path Aggregation Network for Instance Segmentation", CVPR
    2018, Sec. 3.1 / Fig. 2: with P_2..P_5 the FPN outputs,

    ``N_2 = P_2``,
    ``N_{i+1} = ReLU(GN(conv3x3(P_{i+1} + ReLU(GN(conv3x3_s2(N_i))))))``

    which is what the official GN variant computes (ShuLiu1993/PANet
    ``lib/modeling/FPN.py``, ``panet_buttomup``). Extra levels are
    ``max_pool2d(kernel 1, stride 2)`` of the last N (``P6 = pool(N_5)``, for
    the RPN).

    Differences from mmdet's ``PAFPN``, whose parameter names we keep so its
    weights load into this neck (``downsample_convs``, ``pafpn_convs``):
    there, the stride-2 conv reads the pre-conv sum ``S_i`` (``S_{i+1} =
    P_{i+1} + down(S_i)``, ``N_i = conv(S_i)``) instead of ``N_i``, and its
    ``act_cfg`` is shared with the top-down path, so it cannot put the ReLU
    on the bottom-up convs only. Here the top-down path is mmdet's FPN with
    ``norm_cfg`` and no activation, and ``bottom_up_act_cfg`` applies to the
    bottom-up convs alone.

    Args:
        in_channels (list[int]): Channels of each backbone level.
        out_channels (int): Channels of every output level (256 in the
            paper).
        num_outs (int): Number of outputs; levels beyond the backbone's are
            max-pooled from the last N.
        start_level (int): First backbone level used. Defaults to 0.
        end_level (int): Last backbone level used (inclusive); -1 for the
            last. Defaults to -1.
        conv_cfg (dict, optional): Conv layer config of every conv.
        norm_cfg (dict, optional): Norm of every conv, top-down and
            bottom-up. Defaults to GN with 32 groups (official GN variant).
        bottom_up_act_cfg (dict, optional): Activation of the two bottom-up
            convs of each level; ``None`` gives the official non-GN variant
            (plain convs, no ReLU). Defaults to ReLU.
        bottom_up_bias (bool | str): Bias of the bottom-up convs. The official
            code keeps it despite GN (True, the default); ``'auto'`` drops it
            when a norm follows, as mmdet's ``ConvModule`` does.
        upsample_cfg (dict): Top-down interpolation. Defaults to nearest.
        init_cfg (dict or list[dict]): Initialisation (Xavier-uniform convs,
            like mmdet's FPN; the official code uses Caffe2's XavierFill).
    """

    def __init__(
        self,
        *,
        in_channels: List[int],
        out_channels: int = 256,
        num_outs: int = 5,
        start_level: int = 0,
        end_level: int = -1,
        conv_cfg: OptConfigType = None,
        norm_cfg: OptConfigType = dict(
            type='GN', num_groups=32, requires_grad=True),
        bottom_up_act_cfg: OptConfigType = dict(type='ReLU'),
        bottom_up_bias: Union[bool, str] = True,
        upsample_cfg: ConfigType = dict(mode='nearest'),
        init_cfg: MultiConfig = dict(
            type='Xavier', layer='Conv2d', distribution='uniform')
    ) -> None:
        if not isinstance(in_channels, (list, tuple)) or not in_channels:
            raise TypeError('PANetPathAug.in_channels must be a non-empty '
                            f'list of ints, got {in_channels!r}')
        last = len(in_channels) if end_level == -1 else end_level + 1
        num_levels = last - start_level
        if num_levels < 1 or num_outs < num_levels:
            raise ValueError(
                f'PANetPathAug.num_outs={num_outs} must be at least the '
                f'{num_levels} backbone levels used (start_level='
                f'{start_level}, end_level={end_level}, in_channels='
                f'{list(in_channels)})')
        if end_level != -1 and num_outs != num_levels:
            raise ValueError(
                f'PANetPathAug.num_outs={num_outs}: with end_level='
                f'{end_level} no extra level is allowed, expected '
                f'{num_levels}')
        # Extra levels always come from max-pooling (the paper's P6): the
        # FPN's conv-based extra levels are not part of PANet.
        super().__init__(
            in_channels=list(in_channels),
            out_channels=out_channels,
            num_outs=num_outs,
            start_level=start_level,
            end_level=end_level,
            add_extra_convs=False,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=None,
            upsample_cfg=upsample_cfg,
            init_cfg=init_cfg)
        self.num_levels = num_levels

        def bottom_up_conv(stride: int) -> ConvModule:
            return ConvModule(
                out_channels,
                out_channels,
                3,
                stride=stride,
                padding=1,
                bias=bottom_up_bias,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=bottom_up_act_cfg,
                inplace=False)

        # Level i+1 of the path: downsample_convs[i] reads N_i,
        # pafpn_convs[i] gives N_{i+1}.
        self.downsample_convs = nn.ModuleList(
            bottom_up_conv(2) for _ in range(num_levels - 1))
        self.pafpn_convs = nn.ModuleList(
            bottom_up_conv(1) for _ in range(num_levels - 1))

    def forward(self, inputs: Tuple[Tensor]) -> Tuple[Tensor, ...]:
        """Top-down FPN, then the bottom-up path.

        Args:
            inputs (tuple[Tensor]): Backbone features, one (B, C_l, H_l, W_l)
                per backbone level l; B is the batch size, C_l the level's
                ``in_channels`` and H_l, W_l its size.

        Returns:
            tuple[Tensor]: ``num_outs`` maps (B, C, H_i, W_i), C =
            ``out_channels``: N_2..N_5 then the pooled extra levels.
        """
        if len(inputs) != len(self.in_channels):
            raise ValueError(
                f'PANetPathAug got {len(inputs)} input levels, expected '
                f'{len(self.in_channels)} (in_channels={self.in_channels})')
        # FPN's own extra levels pool P_5; the paper pools N_5, so only the
        # backbone levels P_2..P_5 are kept and the extras rebuilt below.
        p_feats = super().forward(inputs)[:self.num_levels]
        n_feats = [p_feats[0]]
        for p_next, down, conv in zip(p_feats[1:], self.downsample_convs,
                                      self.pafpn_convs):
            n_feats.append(conv(p_next + down(n_feats[-1])))
        for _ in range(self.num_outs - self.num_levels):
            n_feats.append(F.max_pool2d(n_feats[-1], 1, stride=2))
        return tuple(n_feats)
