"""PANet box head: per-level first layer, max fusion, then mmdet's head."""
from mmdet.models.roi_heads.bbox_heads import ConvFCBBoxHead
from torch import Tensor

from panoptic_zoo.registry import MODELS
from ..layers import PerLevelFusion
from .topk_nms_bbox_head import TopKNMSBBoxHeadMixin


@MODELS.register_module()
class AdaptiveConvFCBBoxHead(TopKNMSBBoxHeadMixin, ConvFCBBoxHead):
    """mmdet's ``ConvFCBBoxHead`` whose first shared layer is per level.

    Liu et al., CVPR 2018, Sec. 3.2 (adaptive feature pooling): the box
    branch's first parameter layer runs once per pyramid level with its own
    weights and the levels are fused element-wise (max; ``'sum'`` as an
    option). The first shared layer is whichever mmdet builds first:

    - ``num_shared_convs=4, num_shared_fcs=1, norm_cfg=GN``: the official
      default ``roi_Xconv1fc_gn_head_panet`` (4conv1fc GN head); conv1
      (3x3 conv + GN + ReLU) is per level.
    - ``num_shared_convs=0, num_shared_fcs=2``: the paper's 2fc head
      (``Shared2FCBBoxHead``); fc6 (+ ReLU) is per level. The official 2fc
      variant also puts GN after each fc; mmdet's fcs have no norm.

    Everything after the fused layer is mmdet's ``ConvFCBBoxHead`` (its
    remaining shared layers, classifier, regressor, losses, decoding), so
    ``StandardRoIHead`` drives this head with ``AdaptiveRoIExtractor``
    unchanged. Its test-time NMS is the exact top-k one
    (:class:`TopKNMSBBoxHeadMixin`): mmdet's detections without its
    per-class loop.

    Args:
        num_levels (int): L, the pyramid levels the extractor pools from.
        fusion (str): ``'max'`` (official) or ``'sum'``.
        **kwargs: ``ConvFCBBoxHead`` / ``BBoxHead`` arguments, passed on as
            they are; both constructors name every argument, so a misspelled
            key raises ``TypeError`` there.
    """

    def __init__(self,
                 *,
                 num_levels: int = 4,
                 fusion: str = 'max',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if self.num_shared_convs > 0:
            # conv1 of the shared convs; ConvModule has its own norm + ReLU.
            first_layer = self.shared_convs[0]
            del self.shared_convs[0]
            act_cfg = None
            self.per_level_layer = 'conv'
        elif self.num_shared_fcs > 0:
            if self.with_avg_pool:
                raise ValueError(
                    'AdaptiveConvFCBBoxHead: with_avg_pool=True with a '
                    'per-level fc6 is not supported; use shared convs first')
            # fc6; ConvFCBBoxHead applies ReLU after each shared fc.
            first_layer = self.shared_fcs[0]
            del self.shared_fcs[0]
            act_cfg = dict(type='ReLU')
            self.per_level_layer = 'fc'
        else:
            raise ValueError(
                'AdaptiveConvFCBBoxHead needs a shared first layer to run '
                'per level: set num_shared_convs > 0 (4conv1fc head) or '
                f'num_shared_fcs > 0 (2fc head), got num_shared_convs='
                f'{self.num_shared_convs}, num_shared_fcs='
                f'{self.num_shared_fcs}')
        self.level_fusion = PerLevelFusion.from_layer(
            first_layer, num_levels, fusion=fusion, act_cfg=act_cfg)
        if self.per_level_layer == 'fc' and kwargs.get('init_cfg') is None:
            # ConvFCBBoxHead gives its shared fcs Xavier init by name.
            self.init_cfg.append(
                dict(
                    type='Xavier',
                    distribution='uniform',
                    override=dict(name='level_fusion')))

    @property
    def num_levels(self) -> int:
        """int: L, the number of pyramid levels fused."""
        return self.level_fusion.num_levels

    @property
    def roi_feat_levels(self) -> int:
        """int: L, the level axis of the RoI features read (the segmentor
        checks it against the extractor's)."""
        return self.num_levels

    def forward(self, x: Tensor) -> tuple:
        """Per-level first layer, fusion, then the rest of the head.

        Args:
            x (Tensor): (N, L, C, h, w) RoI features from
                ``AdaptiveRoIExtractor``: N RoIs, L levels, C channels,
                (h, w) = ``roi_feat_size``.

        Returns:
            tuple[Tensor]: ``cls_score`` (N, num_classes + 1) and
            ``bbox_pred`` (N, 4 * num_classes) (or (N, 4) when
            ``reg_class_agnostic``), as mmdet's ``ConvFCBBoxHead``.
        """
        if x.dim() != 5:
            raise ValueError(
                'AdaptiveConvFCBBoxHead expects (N, L, C, h, w) per-level '
                'RoI features from AdaptiveRoIExtractor, got shape '
                f'{tuple(x.shape)}')
        if self.per_level_layer == 'fc':
            x = x.flatten(2)  # (N, L, C * h * w)
        x = self.level_fusion(x)  # (N, C', h, w) or (N, fc_out_channels)
        return super().forward(x)
