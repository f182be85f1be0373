"""Panoptic FPN's semantic head with one channel per thing class."""
import copy
from typing import Dict

import torch
import torch.nn.functional as F
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor, nn

from panoptic_zoo.registry import MODELS
from .panoptic_fpn_head import PanopticFPNHead
from .stuff_first import IGNORE_INDEX, to_stuff_first


@MODELS.register_module()
class PanopticFPNPerClassHead(PanopticFPNHead):
    """mmdet's ``PanopticFPNHead`` (Kirillov et al., CVPR 2019) predicting
    ``S + T`` classes, stuff first, instead of ``S + 1`` with every thing
    class merged into one channel.

    The feature path (conv + GN + ReLU + 2× stages, sum at 1/4) is mmdet's,
    unchanged; only the classifier and the GT mapping differ. This is what
    lets a fusion head that needs per-thing-class semantic logits (the
    UPSNet panoptic head) sit on a Panoptic FPN BG branch: stock
    ``PanopticFPNHead`` cannot feed it and the segmentor refuses it at
    build time.

    Args:
        num_things_classes (int): T. Defaults to 80.
        num_stuff_classes (int): S. Defaults to 53.
        in_channels (int): Neck channels. Defaults to 256.
        inner_channels (int): Channels of the stages. Defaults to 128.
        start_level (int): First neck level used. Defaults to 0.
        end_level (int): Level after the last one used. Defaults to 4.
        conv_cfg (dict, optional): Conv config of the stages.
        norm_cfg (dict): Norm config of the stages. Defaults to GN-32.
        loss_seg (dict): Loss at 1/4 against nearest-downsampled GT, as
            mmdet's head; ``ignore_index`` must be 255.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 *,
                 num_things_classes: int = 80,
                 num_stuff_classes: int = 53,
                 in_channels: int = 256,
                 inner_channels: int = 128,
                 start_level: int = 0,
                 end_level: int = 4,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(
                     type='GN', num_groups=32, requires_grad=True),
                 loss_seg: ConfigType = dict(
                     type='CrossEntropyLoss',
                     ignore_index=IGNORE_INDEX,
                     loss_weight=0.5),
                 init_cfg: OptMultiConfig = None) -> None:
        if loss_seg.get('ignore_index') != IGNORE_INDEX:
            raise ValueError(
                'model.semantic_head.loss_seg.ignore_index must be '
                f'{IGNORE_INDEX} (void), got {loss_seg.get("ignore_index")}')
        super().__init__(
            num_things_classes=num_things_classes,
            num_stuff_classes=num_stuff_classes,
            in_channels=in_channels,
            inner_channels=inner_channels,
            start_level=start_level,
            end_level=end_level,
            conv_cfg=copy.deepcopy(conv_cfg),
            norm_cfg=copy.deepcopy(norm_cfg),
            loss_seg=copy.deepcopy(loss_seg),
            init_cfg=init_cfg)
        self.num_classes = num_stuff_classes + num_things_classes
        self.in_channels = in_channels  # mmdet's head keeps no attribute
        self.conv_logits = nn.Conv2d(inner_channels, self.num_classes, 1)

    def _set_things_to_void(self, gt_semantic_seg: Tensor) -> Tensor:
        """mmdet's GT-mapping hook; here things keep their own channel."""
        return to_stuff_first(gt_semantic_seg, self.num_things_classes,
                              self.num_stuff_classes)

    def loss_by_feat(self, outs: Dict[str, Tensor],
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """``loss_seg`` of an output of :meth:`forward`, mmdet's recipe.

        Args:
            outs (dict[str, Tensor]): ``seg_preds`` (B, S + T, h, w).
            batch_data_samples (list[DetDataSample]): ``gt_sem_seg``
                (1, H_pad, W_pad).

        Returns:
            dict[str, Tensor]: ``loss_seg``.
        """
        seg_preds = outs['seg_preds']
        gt = torch.stack([s.gt_sem_seg.sem_seg
                          for s in batch_data_samples]).float()
        if self.seg_rescale_factor != 1.0:
            gt = F.interpolate(
                gt, scale_factor=self.seg_rescale_factor, mode='nearest')
        gt = self._set_things_to_void(gt.squeeze(1))  # (B, h, w)
        if seg_preds.shape[-2:] != gt.shape[-2:]:
            seg_preds = F.interpolate(
                seg_preds,
                size=gt.shape[-2:],
                mode='bilinear',
                align_corners=False)
        return dict(loss_seg=self.loss_seg(seg_preds, gt))
