"""PANet fully-connected fusion mask head."""
from typing import Optional, Sequence

from mmcv.cnn import ConvModule
from mmengine.model import normal_init
from torch import Tensor, nn

from panoptic_zoo.registry import MODELS
from .adaptive_fcn_mask_head import AdaptiveFCNMaskHead


@MODELS.register_module()
class FCFusionMaskHead(AdaptiveFCNMaskHead):
    """FCN mask branch plus a class-agnostic fully connected path.

    Liu et al., "Path Aggregation Network for Instance Segmentation", CVPR
    2018, Sec. 3.4 / Fig. 4, as the official code builds it
    (``mask_rcnn_fcn_head_v1up4convs_gn_adp_ff``)::

        x     = conv1 .. conv3(roi)          # (N, C, 14, 14), N RoIs
        fcn   = ReLU(deconv(conv4(x)))       # mmdet's FCNMaskHead
        ff    = ReLU(fc(conv5_fc(conv4_fc(x))))   # (N, M * M)
        logit = conv_logits(fcn) + ff.view(N, 1, M, M)

    conv1 runs per pyramid level when adaptive (below). The short path
    forks at the output of the second-to-last FCN conv
    (conv3 of 4); ``conv4_fc`` and ``conv5_fc`` (``fc_conv_channels``,
    officially 256 and 128) are each a 3x3 conv + norm + ReLU. The fc
    output (one M x M mask, M = 28) is class-agnostic and is added to every
    class's logits before the sigmoid; training uses mmdet's per-class BCE on
    the sum. The official code puts a ReLU after the fc, so the fc path can
    only raise the logits (``fc_relu=True``); some re-implementations (mmdet
    1.x ports) drop it (``fc_relu=False``). ``fc`` is initialised N(0, 0.01),
    bias 0, as in the official code.

    With ``num_levels`` set (the default, 4) conv1 runs per pyramid level on
    ``AdaptiveRoIExtractor`` features and the levels are max-fused (PANet's
    adaptive feature pooling); with ``num_levels=None`` the head takes an
    ordinary extractor's features.

    Args:
        fc_conv_channels (Sequence[int]): Output channels of the convs of the
            fc path (official: ``(256, 128)``).
        fc_relu (bool): ReLU after the fc (official). Defaults to True.
        num_levels (int, optional): See ``AdaptiveFCNMaskHead``.
        fusion (str): See ``AdaptiveFCNMaskHead``.
        **kwargs: ``FCNMaskHead`` arguments; ``roi_feat_size`` (14) must be
            the RoI extractor's output size, since the fc reads it whole.
    """

    def __init__(self,
                 *,
                 fc_conv_channels: Sequence[int] = (256, 128),
                 fc_relu: bool = True,
                 num_levels: Optional[int] = 4,
                 fusion: str = 'max',
                 **kwargs) -> None:
        super().__init__(num_levels=num_levels, fusion=fusion, **kwargs)
        if self.num_convs < 2:
            raise ValueError(
                'FCFusionMaskHead forks its fc path after the second-to-last '
                f'FCN conv, so num_convs must be >= 2, got {self.num_convs}')
        fc_conv_channels = tuple(fc_conv_channels)
        if not fc_conv_channels or min(fc_conv_channels) < 1:
            raise ValueError(
                'FCFusionMaskHead.fc_conv_channels must be a non-empty list '
                f'of positive ints, got {fc_conv_channels!r}')
        self.fc_relu = fc_relu
        self.fc_convs = nn.ModuleList()
        in_channels = self.conv_out_channels
        for out_channels in fc_conv_channels:
            self.fc_convs.append(
                ConvModule(
                    in_channels,
                    out_channels,
                    self.conv_kernel_size,
                    padding=(self.conv_kernel_size - 1) // 2,
                    conv_cfg=self.conv_cfg,
                    norm_cfg=self.norm_cfg))
            in_channels = out_channels
        roi_h, roi_w = self.roi_feat_size
        scale = self.scale_factor if self.upsample is not None else 1
        self.mask_size = (int(roi_h * scale), int(roi_w * scale))
        self.fc_mask = nn.Linear(in_channels * roi_h * roi_w,
                                 self.mask_size[0] * self.mask_size[1])
        normal_init(self.fc_mask, mean=0., std=0.01, bias=0.)

    def init_weights(self) -> None:
        """mmdet's init for the FCN part; N(0, 0.01) for the fc."""
        super().init_weights()
        normal_init(self.fc_mask, mean=0., std=0.01, bias=0.)

    def forward_fc(self, x: Tensor) -> Tensor:
        """The fully connected path.

        Args:
            x (Tensor): (N, C, h, w) output of the second-to-last FCN conv;
                N RoIs, C = ``conv_out_channels``, (h, w) =
                ``roi_feat_size``.

        Returns:
            Tensor: (N, 1, M, M') class-agnostic mask logits, (M, M') =
            ``mask_size``.
        """
        if tuple(x.shape[-2:]) != tuple(self.roi_feat_size):
            raise ValueError(
                f'FCFusionMaskHead.roi_feat_size={tuple(self.roi_feat_size)}'
                f' but the RoI features are {tuple(x.shape[-2:])}: set it to'
                ' the mask RoI extractor\'s output_size')
        for conv in self.fc_convs:
            x = conv(x)
        x = self.fc_mask(x.flatten(1))  # (N, M * M')
        if self.fc_relu:
            x = x.relu()
        return x.view(x.size(0), 1, *self.mask_size)  # (N, 1, M, M')

    def forward(self, x: Tensor) -> Tensor:
        """Mask logits: FCN logits plus the class-agnostic fc mask.

        Args:
            x (Tensor): (N, L, C_in, h, w) per-level RoI features, or (N,
                C_in, h, w) when ``num_levels`` is None; N RoIs, L levels.

        Returns:
            Tensor: (N, K, M, M') logits; K = ``num_classes`` (1 when
            class-agnostic), (M, M') = ``mask_size``.
        """
        x = self.fuse_levels(x)  # (N, C, h, w), after conv1 if per level
        for conv in self.convs[:-1]:
            x = conv(x)
        fc_logits = self.forward_fc(x)  # forks at conv3's output
        x = self.convs[-1](x)
        if self.upsample is not None:
            x = self.upsample(x)
            if self.upsample_method == 'deconv':
                x = self.relu(x)
        # (N, K, M, M') + (N, 1, M, M'): the same fc mask for every class.
        return self.conv_logits(x) + fc_logits
