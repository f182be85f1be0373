"""UPSNet's deformable semantic head, with the RoI loss."""
import copy
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmcv.ops import roi_align
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi, get_box_tensor
from mmdet.utils import ConfigType, InstanceList, OptConfigType, OptMultiConfig
from torch import Tensor, nn

from panoptic_zoo.models.contracts import PanopticSemanticHead
from panoptic_zoo.registry import MODELS
from .stuff_first import IGNORE_INDEX, to_stuff_first

#: conv_cfg types: plain conv, DCN v1 (official), modulated DCN (v2).
CONV_TYPES = ('Conv2d', 'DCN', 'DCNv2')


class SubNetLayer(nn.Module):
    """One layer of the official ``FCNSubNet``: 3×3 conv, bias, optional
    norm, ReLU.

    mmcv's ``DeformConv2d`` has no bias while the official DCN layer has
    one, so for ``DCN`` the bias is a separate parameter.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        conv_cfg (dict, optional): mmcv conv config (None: ``nn.Conv2d``).
        norm_cfg (dict, optional): mmcv norm config (None: no norm).
    """

    def __init__(self, in_channels: int, out_channels: int, *,
                 conv_cfg: OptConfigType, norm_cfg: OptConfigType) -> None:
        super().__init__()
        native_bias = _conv_type(conv_cfg) != 'DCN'
        self.conv = build_conv_layer(
            conv_cfg,
            in_channels,
            out_channels,
            3,
            padding=1,
            bias=native_bias)
        self.bias = None if native_bias else nn.Parameter(
            torch.zeros(out_channels))
        self.norm = build_norm_layer(norm_cfg, out_channels)[1] \
            if norm_cfg else None
        self.relu = nn.ReLU()

    def init_weights(self) -> None:
        """Official init: zero offset convs, kaiming-normal weights, zero
        bias."""
        # mmcv's own hooks zero the offset (and mask) convs; the v2 one
        # also re-draws the weight, so it runs before kaiming.
        for hook in ('init_offset', 'init_weights'):
            if hasattr(self.conv, hook):
                getattr(self.conv, hook)()
        nn.init.kaiming_normal_(self.conv.weight)
        nn.init.zeros_(self.bias if self.bias is not None else self.conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, H, W) → (B, C_out, H, W)."""
        height, width = x.shape[-2:]
        if height < 3 or width < 3:
            # mmcv's DCN packs reject maps smaller than the kernel (e.g. P5
            # of a small image); zeros below/right change no output pixel,
            # since the conv pads with zeros and DCN samples 0 outside.
            x = F.pad(x, (0, max(3 - width, 0), 0, max(3 - height, 0)))
        x = self.conv(x)[..., :height, :width]
        if self.bias is not None:
            x = x + self.bias.view(1, -1, 1, 1)
        if self.norm is not None:
            x = self.norm(x)
        return self.relu(x)


@MODELS.register_module()
class UPSNetSemanticHead(PanopticSemanticHead):
    """Deformable semantic head of UPSNet (Xiong et al., CVPR 2019,
    Sec. 3.2), as in the official ``fcn.py`` (FIDELITY.md §1-2).

    One stack of ``num_convs`` 3×3 convs (DCN v1 by default, no norm,
    channels ``C_in → C_in → C_inner → C_inner`` for 3 layers) is applied
    with *shared weights* to every level in [start_level, end_level); the
    outputs are upsampled bilinearly to the first level's size (1/4),
    concatenated (L · C_inner channels) and a 1×1 conv gives
    ``S + T`` logits, **stuff first** (things are not merged).

    Losses: ``loss_seg`` is the cross-entropy of the logits upsampled to
    the padded input against the full-resolution GT (averaged over
    non-void pixels, like ``nn.CrossEntropyLoss``); ``loss_roi`` (the
    paper's RoI loss) is RoIAlign (28×28, legacy ``aligned=False``,
    sampling 2) of the concatenated feature at the GT boxes followed by
    the same 1×1 conv, against the GT labels cropped at the rounded boxes
    and resized with nearest neighbour, averaged over *all* N·28·28
    entries. Official weights on COCO: 0.2 and 0.04.

    Where it can differ from the official code: mmcv's RoIAlign with
    ``aligned=False`` stands for the legacy Detectron op; logits are
    upsampled to the first level's size rather than by fixed factors
    2/4/8 (the same when the input is padded to a multiple of 32).

    Args:
        num_things_classes (int): T. Defaults to 80.
        num_stuff_classes (int): S. Defaults to 53.
        in_channels (int): C_in of the neck features. Defaults to 256.
        inner_channels (int): C_inner. Defaults to 128.
        num_convs (int): Layers of the shared stack. Defaults to 3.
        start_level (int): First neck level used (P2). Defaults to 0.
        end_level (int): Level after the last one used. Defaults to 4.
        conv_cfg (dict, optional): ``dict(type='DCN')`` (DCN v1, default),
            ``dict(type='DCNv2')`` (modulated) or None / ``Conv2d``.
        norm_cfg (dict, optional): Norm after each conv (official: none).
        roi_size (int): Side of the RoI-loss crops. Defaults to 28.
        roi_sampling_ratio (int): RoIAlign sampling ratio. Defaults to 2.
        roi_aligned (bool): RoIAlign half-pixel convention. Defaults to
            False (legacy, as the official code).
        loss_seg (dict): Semantic loss; ``ignore_index`` must be 255.
        loss_roi (dict, optional): RoI loss; None disables it.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 *,
                 num_things_classes: int = 80,
                 num_stuff_classes: int = 53,
                 in_channels: int = 256,
                 inner_channels: int = 128,
                 num_convs: int = 3,
                 start_level: int = 0,
                 end_level: int = 4,
                 conv_cfg: OptConfigType = dict(type='DCN', deform_groups=1),
                 norm_cfg: OptConfigType = None,
                 roi_size: int = 28,
                 roi_sampling_ratio: int = 2,
                 roi_aligned: bool = False,
                 loss_seg: ConfigType = dict(
                     type='CrossEntropyLoss',
                     ignore_index=IGNORE_INDEX,
                     avg_non_ignore=True,
                     loss_weight=0.2),
                 loss_roi: OptConfigType = dict(
                     type='CrossEntropyLoss',
                     ignore_index=IGNORE_INDEX,
                     loss_weight=0.04),
                 init_cfg: OptMultiConfig = None) -> None:
        conv_type = _conv_type(conv_cfg)
        if conv_type not in CONV_TYPES:
            raise ValueError(
                f'model.semantic_head.conv_cfg.type={conv_type!r}: expected '
                f'one of {CONV_TYPES} (None for a plain conv)')
        if num_convs < 1:
            raise ValueError(
                f'model.semantic_head.num_convs={num_convs}: expected >= 1')
        if not 0 <= start_level < end_level:
            raise ValueError(
                f'model.semantic_head levels [{start_level}, {end_level}) '
                'are empty: expected 0 <= start_level < end_level')
        for key, cfg in (('loss_seg', loss_seg), ('loss_roi', loss_roi)):
            if cfg is not None and cfg.get('ignore_index') != IGNORE_INDEX:
                raise ValueError(
                    f'model.semantic_head.{key}.ignore_index must be '
                    f'{IGNORE_INDEX} (void), got {cfg.get("ignore_index")}')
        super().__init__(
            num_classes=num_stuff_classes + num_things_classes,
            seg_rescale_factor=1 / 2**(start_level + 2),
            loss_seg=copy.deepcopy(loss_seg),
            init_cfg=init_cfg)
        self.num_things_classes = num_things_classes
        self.num_stuff_classes = num_stuff_classes
        self.in_channels = in_channels
        self.start_level = start_level
        self.end_level = end_level
        self.roi_size = roi_size
        self.roi_sampling_ratio = roi_sampling_ratio
        self.roi_aligned = roi_aligned
        self.loss_roi = MODELS.build(loss_roi) if loss_roi else None

        layers, channels = [], in_channels
        for i in range(num_convs):
            # Official channel plan: C_in until the second-to-last layer.
            out = inner_channels if i >= num_convs - 2 else in_channels
            layers.append(
                SubNetLayer(
                    channels, out, conv_cfg=conv_cfg, norm_cfg=norm_cfg))
            channels = out
        self.subnet = nn.Sequential(*layers)  # shared by every level
        self.conv_logits = nn.Conv2d(
            inner_channels * (end_level - start_level), self.num_classes, 1)
        self._official_init()

    def _official_init(self) -> None:
        for layer in self.subnet:
            layer.init_weights()
        nn.init.normal_(self.conv_logits.weight, 0, 0.01)
        nn.init.zeros_(self.conv_logits.bias)

    def init_weights(self) -> None:
        """Official initialisation, unless ``init_cfg`` says otherwise."""
        super().init_weights()
        if self.init_cfg is None:
            self._official_init()

    # ------------------------------------------------------------ forward
    def forward(self, x: Tuple[Tensor, ...]) -> Dict[str, Tensor]:
        """Semantic logits at the first used level's resolution.

        Args:
            x (tuple[Tensor]): Neck features, level l of shape
                (B, C_in, H_l, W_l).

        Returns:
            dict[str, Tensor]: ``seg_preds`` (B, S + T, H_s, W_s), stuff
            first, and ``seg_feats`` (B, L · C_inner, H_s, W_s), where s is
            ``start_level`` and L the number of levels used.
        """
        feats = x[self.start_level:self.end_level]
        if len(feats) != self.end_level - self.start_level:
            raise ValueError(
                f'UPSNetSemanticHead reads levels [{self.start_level}, '
                f'{self.end_level}) but the neck gave {len(x)}')
        size = feats[0].shape[-2:]
        outs = []
        for feat in feats:
            out = self.subnet(feat)
            if out.shape[-2:] != size:
                out = F.interpolate(
                    out, size=size, mode='bilinear', align_corners=False)
            outs.append(out)
        seg_feats = torch.cat(outs, dim=1)  # (B, L * C_inner, H_s, W_s)
        return dict(seg_preds=self.conv_logits(seg_feats), seg_feats=seg_feats)

    # ------------------------------------------------------------ loss
    def loss_by_feat(self, outs: Dict[str, Tensor],
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Losses of an output of :meth:`forward`.

        Args:
            outs (dict[str, Tensor]): ``seg_preds`` and ``seg_feats``.
            batch_data_samples (list[DetDataSample]): ``gt_sem_seg``
                (1, H_pad, W_pad) padded with 255 and ``gt_instances``.

        Returns:
            dict[str, Tensor]: ``loss_seg`` and, if enabled, ``loss_roi``.
        """
        gt = torch.stack([s.gt_sem_seg.sem_seg[0] for s in batch_data_samples])
        gt = to_stuff_first(gt, self.num_things_classes,
                            self.num_stuff_classes)  # (B, H_pad, W_pad)
        logits = F.interpolate(
            outs['seg_preds'],
            size=gt.shape[-2:],
            mode='bilinear',
            align_corners=False)  # (B, S + T, H_pad, W_pad)
        losses = dict(loss_seg=self.loss_seg(logits, gt))
        if self.loss_roi is not None:
            losses['loss_roi'] = self._roi_loss(
                outs['seg_feats'], gt,
                [s.gt_instances for s in batch_data_samples])
        return losses

    def _roi_loss(self, seg_feats: Tensor, gt: Tensor,
                  batch_gt_instances: InstanceList) -> Tensor:
        """RoI loss on (B, C_f, h, w) features, (B, H_pad, W_pad) GT."""
        boxes = [get_box_tensor(g.bboxes) for g in batch_gt_instances]
        rois = bbox2roi(boxes)  # (N, 5)
        if rois.shape[0] == 0:
            # Keep the graph connected so DDP sees every parameter used.
            return self.conv_logits(seg_feats[:, :, :1, :1]).sum() * 0
        feats = roi_align(seg_feats, rois, self.roi_size,
                          seg_feats.shape[-1] / gt.shape[-1],
                          self.roi_sampling_ratio, 'avg', self.roi_aligned)
        logits = self.conv_logits(feats)  # (N, S + T, m, m)
        targets = torch.cat([
            roi_label_targets(g, b, self.roi_size) for g, b in zip(gt, boxes)
        ])  # (N, m, m)
        return self.loss_roi(logits, targets)


def roi_label_targets(sem_seg: Tensor, boxes: Tensor, size: int) -> Tensor:
    """Label crops at rounded boxes, resized by nearest neighbour (the
    official ``seg_roi_gt``: ``cv2.resize(seg[y0:y1, x0:x1], INTER_NEAREST)``
    with a zero-size side widened by one pixel).

    Args:
        sem_seg (Tensor): (H, W) labels.
        boxes (Tensor): (N, 4) boxes (x1, y1, x2, y2) in pixels of sem_seg.
        size (int): Side m of the crops.

    Returns:
        Tensor: (N, m, m) labels; a box entirely outside the map gives 255.
    """
    height, width = sem_seg.shape[-2:]
    rounded = boxes.double().round()
    x0, y0, x1, y1 = rounded.unbind(1)
    x1 = torch.where(x1 == x0, x1 + 1, x1)
    y1 = torch.where(y1 == y0, y1 + 1, y1)
    x0, x1 = x0.clamp(0, width), x1.clamp(0, width)
    y0, y1 = y0.clamp(0, height), y1.clamp(0, height)
    step = torch.arange(size, dtype=torch.float64, device=boxes.device)

    def _index(start: Tensor, extent: Tensor, limit: int) -> Tensor:
        # OpenCV INTER_NEAREST: src = min(floor(dst / (size / extent)),
        # extent - 1).
        src = (step[None] * (1 / (size / extent.clamp(min=1)))[:, None])
        src = torch.minimum(src.floor(), (extent - 1).clamp(min=0)[:, None])
        return (start[:, None] + src).clamp(0, limit - 1).long()  # (N, m)

    rows = _index(y0, y1 - y0, height)
    cols = _index(x0, x1 - x0, width)
    crops = sem_seg[rows[:, :, None], cols[:, None, :]].long()  # (N, m, m)
    valid = ((x1 > x0) & (y1 > y0))[:, None, None]
    return torch.where(valid, crops, crops.new_full((), IGNORE_INDEX))


def _conv_type(conv_cfg: OptConfigType) -> str:
    return 'Conv2d' if conv_cfg is None else conv_cfg.get('type', 'Conv2d')
