"""PANet adaptive feature pooling: every RoI from every level."""
from typing import List, Optional, Tuple

import torch
from mmdet.models.roi_heads.roi_extractors import BaseRoIExtractor
from mmdet.utils import ConfigType, OptMultiConfig
from torch import Tensor

from panoptic_zoo.registry import MODELS


@MODELS.register_module()
class AdaptiveRoIExtractor(BaseRoIExtractor):
    """Pool each RoI from all pyramid levels and keep the levels apart.

    Liu et al., "Path Aggregation Network for Instance Segmentation", CVPR
    2018, Sec. 3.2: adaptive feature pooling. Unlike mmdet's
    ``SingleRoIExtractor`` (one level per RoI, by size), every RoI is
    RoIAligned on *every* level with that level's ``spatial_scale``, as the
    official ``roi_feature_transform(panet=True)`` does. The levels are not
    fused here: PANet fuses them after one parameter layer per level (with
    its own weights), which belongs to the head, so the extractor returns a
    level axis and heads built for it (``AdaptiveConvFCBBoxHead``,
    ``FCFusionMaskHead(num_levels=L)``) apply the per-level layer and fuse.
    mmdet's ``GenericRoIExtractor`` also pools all levels, but sums or
    concatenates them right away (one ``pre_module`` shared by all levels,
    no max).

    The output is RoI-major, ``(N, L, C, h, w)``, so mmdet's
    ``StandardRoIHead`` drives it unchanged: it only indexes and splits RoI
    features along dim 0 (``bbox_feats[pos_inds]`` when the mask branch
    shares the box extractor).

    The official code uses the legacy RoIAlign (``aligned=False``,
    ``sampling_ratio=2``); mmcv defaults to ``aligned=True``: choose in
    ``roi_layer``.

    Args:
        roi_layer (dict): RoI op config, e.g. ``dict(type='RoIAlign',
            output_size=7, sampling_ratio=2, aligned=False)``.
        out_channels (int): Channels C of the input feature maps (and of the
            output).
        featmap_strides (list[int]): Stride of each input level.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 *,
                 roi_layer: ConfigType,
                 out_channels: int,
                 featmap_strides: List[int],
                 init_cfg: OptMultiConfig = None) -> None:
        if not featmap_strides:
            raise ValueError('AdaptiveRoIExtractor.featmap_strides must list '
                             f'one stride per level, got {featmap_strides!r}')
        super().__init__(
            roi_layer=roi_layer,
            out_channels=out_channels,
            featmap_strides=list(featmap_strides),
            init_cfg=init_cfg)

    @property
    def roi_feat_levels(self) -> int:
        """int: L, the level axis of the output: heads read it when they
        declare the same ``roi_feat_levels`` (segmentor's interfaces.py)."""
        return self.num_inputs

    def forward(self,
                feats: Tuple[Tensor],
                rois: Tensor,
                roi_scale_factor: Optional[float] = None) -> Tensor:
        """RoIAlign every RoI on every level.

        Args:
            feats (tuple[Tensor]): L maps (B, C, H_l, W_l), one per
                ``featmap_strides`` entry; B is the batch size, C =
                ``out_channels``, H_l, W_l the size of level l.
            rois (Tensor): (N, 5) RoIs ``(batch_index, x1, y1, x2, y2)`` in
                input-image coordinates; N is the number of RoIs.
            roi_scale_factor (float, optional): Scale each RoI about its
                centre before pooling.

        Returns:
            Tensor: (N, L, C, h, w) RoI features, level l pooled from
            ``feats[l]``; (h, w) is the RoI op's ``output_size``.
        """
        if len(feats) != self.num_inputs:
            raise ValueError(
                f'AdaptiveRoIExtractor got {len(feats)} feature levels, '
                f'expected {self.num_inputs} (featmap_strides='
                f'{self.featmap_strides})')
        channels = feats[0].size(1)
        if channels != self.out_channels:
            raise ValueError(
                f'AdaptiveRoIExtractor.out_channels={self.out_channels} but '
                f'the features have {channels} channels')
        out_size = self.roi_layers[0].output_size
        if rois.size(0) == 0:
            return feats[0].new_zeros(0, len(feats), channels, *out_size)
        rois = rois.type_as(feats[0])  # fp16 under AMP
        if roi_scale_factor is not None:
            rois = self.roi_rescale(rois, roi_scale_factor)
        per_level = [
            roi_layer(feat, rois)
            for roi_layer, feat in zip(self.roi_layers, feats)
        ]
        return torch.stack(per_level, dim=1)  # (N, L, C, h, w)
