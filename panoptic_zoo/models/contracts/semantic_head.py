"""The semantic (BG) head slot: its contract and the logits it gives."""
from abc import abstractmethod
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.seg_heads.base_semantic_head import BaseSemanticHead
from mmdet.structures import SampleList
from torch import Tensor


class PanopticSemanticHead(BaseSemanticHead):
    """Contract of a semantic head (mmdet's ``BaseSemanticHead`` plus two
    declarations).

    - ``forward(bg_feats) -> {'seg_preds': (B, S + K, h, w)}``: logits,
      stuff first (S stuff classes in dataset order), then K thing
      channels: K = 1 (all things merged, Panoptic FPN) or K = T (one per
      thing class, UPSNet). h, w = the padded input size × ``seg_rescale_
      factor``.
    - ``num_thing_channels``: K.
    - ``loss_by_feat(outs, batch_data_samples) -> dict``: losses from the
      ``forward`` output (the segmentor runs ``forward`` once and shares it
      with the fusion head).

    ``loss`` and ``predict`` follow from these.
    """

    @property
    def num_thing_channels(self) -> int:
        """K: 1 for merged things, T for per-thing-class logits."""
        return self.num_classes - self.num_stuff_classes

    @abstractmethod
    def loss_by_feat(self, outs: Dict[str, Tensor],
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Losses of the ``forward`` output ``outs``."""

    def loss(self, x: Tuple[Tensor, ...],
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        return self.loss_by_feat(self(x), batch_data_samples)

    def predict(self, x: Tuple[Tensor, ...], batch_img_metas: List[dict],
                rescale: bool = False) -> List[Tensor]:
        return SemanticLogits.of(self, self(x)).resized(
            batch_img_metas, rescale)


class SemanticLogits:
    """A semantic head's ``seg_preds`` with their layout, as the fusion head
    reads them.

    Args:
        outs (dict[str, Tensor]): The head's ``forward`` output;
            ``seg_preds`` (B, S + K, h, w), stuff first.
        num_stuff (int): S.
        num_thing_channels (int): K (1 merged, or T).
    """

    def __init__(self, outs: Dict[str, Tensor], num_stuff: int,
                 num_thing_channels: int) -> None:
        seg_preds = outs['seg_preds']
        if seg_preds.shape[1] != num_stuff + num_thing_channels:
            raise ValueError(
                f'semantic logits have {seg_preds.shape[1]} channels, the '
                f'head declares {num_stuff} stuff + {num_thing_channels} '
                'thing channels')
        self.outs, self.seg_preds = outs, seg_preds
        self.num_stuff = num_stuff
        self.num_thing_channels = num_thing_channels

    @classmethod
    def of(cls, head: PanopticSemanticHead,
           outs: Dict[str, Tensor]) -> 'SemanticLogits':
        """The logits of ``head``'s ``forward`` output ``outs``."""
        return cls(outs, head.num_stuff_classes, head.num_thing_channels)

    def split(self, logits: Tensor) -> Tuple[Tensor, Tensor]:
        """Stuff (..., S, H, W) and thing (..., K, H, W) views of logits in
        this layout (``seg_preds`` or a resized map)."""
        return (logits.narrow(-3, 0, self.num_stuff),
                logits.narrow(-3, self.num_stuff, self.num_thing_channels))

    def resized(self, batch_img_metas: List[dict],
                rescale: bool) -> List[Tensor]:
        """Per image (S + K, H, W): bilinear to the padded input
        (``batch_input_shape``), then, with ``rescale``, cropped to
        ``img_shape`` and resized to ``ori_shape`` (mmdet's
        ``BaseSemanticHead.predict``)."""
        seg = F.interpolate(
            self.seg_preds,
            size=batch_img_metas[0]['batch_input_shape'],
            mode='bilinear',
            align_corners=False)
        seg = [seg[i] for i in range(len(batch_img_metas))]
        if not rescale:
            return seg
        out = []
        for pred, meta in zip(seg, batch_img_metas):
            h, w = meta['img_shape']
            out.append(
                F.interpolate(
                    pred[None, :, :h, :w],
                    size=tuple(meta['ori_shape'][:2]),
                    mode='bilinear',
                    align_corners=False)[0])
        return out

    def merged(self, maps: List[Tensor]) -> List[Tensor]:
        """Maps as heuristic fusion reads them, (S + 1, H, W): per-class
        thing channels merged by a max, which keeps every pixel's argmax
        (a thing class becomes channel S)."""
        if self.num_thing_channels == 1:
            return maps
        merged = []
        for seg in maps:
            stuff, things = self.split(seg)
            merged.append(
                torch.cat([stuff, things.max(dim=-3, keepdim=True)[0]],
                          dim=-3))
        return merged
