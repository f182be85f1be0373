"""UPSNet's parameter-free panoptic head, with the unknown class."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.structures import SampleList
from mmdet.structures.bbox import get_box_tensor
from mmdet.utils import InstanceList, OptConfigType, OptMultiConfig, PixelList
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from panoptic_zoo.models.contracts import (FGContext, PanopticFusionHead,
                                           SemanticLogits)
from panoptic_zoo.registry import MODELS
from .upsnet_panoptic_logits import (IGNORE_INDEX, panoptic_argmax,
                                     panoptic_logits, panoptic_targets)
from .upsnet_panoptic_post import remove_overlapping_masks, unify_panoptic

#: ``model.test_cfg.panoptic`` keys and their (official) defaults.
TEST_DEFAULTS = dict(
    mask_overlap=0.3,  # same-class overlap removal (MaskRemoval)
    stuff_area_limit=4096,  # per stuff class, original-image pixels
    relabel_to_stuff=True,  # majority-vote relabelling of instances
    no_instance_logit=0.,  # max_i X_mask_i when no instance is kept
    instance_chunk=32)  # instance channels in memory at a time


@MODELS.register_module()
class UPSNetPanopticHead(PanopticFusionHead):
    """Parameter-free panoptic head of UPSNet (Xiong et al., CVPR 2019,
    Sec. 3.3, Eq. 1-2), as the official code implements it (FIDELITY.md
    §3).

    Panoptic logits ``Z = [X_stuff ; X_mask_i + Y_mask_i ; Z_unknown]``
    with X the semantic logits (per thing class), X_mask_i the class
    ``C_i`` channel of X inside box ``B_i`` (0 outside), Y_mask_i the mask
    head's class-``C_i`` logits resized into ``B_i`` (0 outside) and
    ``Z_unknown = max_c X_thing_c - max_i X_mask_i``.

    Training (:meth:`loss`): the instances are a random ``keep_fraction`` of
    the non-crowd GT boxes (:meth:`sample_instances`), with the mask head
    run on them (``FGContext.add_mask_logits``); Z is built at the
    semantic logits' resolution (1/4) and the cross-entropy target labels
    pixels of dropped and crowd instances *unknown*, so that channel is
    trained. The loss is
    averaged over all pixels, ignored ones counting 0 (the official
    ``reduce=False`` then ``mean``); gradients reach both the semantic and
    the mask head.

    Test (:meth:`predict`), at input resolution on the detector's output
    (its ``test_cfg.rcnn`` holds the score threshold 0.6 and the
    class-agnostic NMS 0.5): same-class overlap removal, argmax of Z,
    nearest resize to the original image, majority-vote relabelling to
    stuff, per-class small-stuff removal, unknown → void.

    Memory: the training Z is dense, (S + K + 1) × H/4 × W/4 per image (K
    kept GT instances). At test Z is never materialised: the argmax keeps
    a running maximum over the stuff block and over chunks of
    ``instance_chunk`` instances, so it needs O((S + T + chunk) · H · W)
    whatever the number of detections, and each paste only fills the
    visible part of its box.

    Differences from the official code (all in corner cases):
    with no detection Z has no instance channel and ``max_i X_mask_i`` is
    ``no_instance_logit`` (0: the official ``MaskROI`` then feeds one
    all-zero dummy box of the background class, so its unknown logit is
    ``max X_thing - 0``; its ``SegTerm`` −10 branch is never reached, and
    we drop the dummy channel itself); when every detection is removed,
    nothing is kept (official: the first one stays, with zero mask
    logits); boxes are floored instead of truncated (differs only below
    0); batches of several images are allowed, the loss being their mean.

    Args:
        num_things_classes (int): T. Defaults to 80.
        num_stuff_classes (int): S. Defaults to 53.
        keep_fraction (float): Fraction of GT instances kept in training
            (at least one per image). Official: 0.7.
        with_unknown (bool): Use the unknown channel (train and test). The
            official code enables it exactly when ``keep_fraction < 1``;
            its "no void" ablation is ``keep_fraction=1.0,
            with_unknown=False`` (unmatched thing pixels are ignored).
        loss_panoptic (dict, optional): Loss config; ``ignore_index`` must
            be 255. None makes the head inference-only. Official weight
            0.1 on COCO.
        test_cfg (dict, optional): ``model.test_cfg.panoptic``; keys and
            defaults in ``TEST_DEFAULTS``.
        init_cfg (dict, optional): Unused (no parameters).
    """

    #: Z needs X_thing of each instance's class.
    needs_thing_logits_per_class = True

    def __init__(self,
                 *,
                 num_things_classes: int = 80,
                 num_stuff_classes: int = 53,
                 keep_fraction: float = 0.7,
                 with_unknown: bool = True,
                 loss_panoptic: OptConfigType = dict(
                     type='CrossEntropyLoss',
                     ignore_index=IGNORE_INDEX,
                     loss_weight=0.1),
                 test_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        if not 0 < keep_fraction <= 1:
            raise ValueError(
                'model.panoptic_fusion_head.keep_fraction must be in (0, 1], '
                f'got {keep_fraction}')
        if loss_panoptic is not None and loss_panoptic.get(
                'ignore_index') != IGNORE_INDEX:
            raise ValueError(
                'model.panoptic_fusion_head.loss_panoptic.ignore_index must '
                f'be {IGNORE_INDEX} (void in the panoptic targets), got '
                f'{loss_panoptic.get("ignore_index")}')
        super().__init__(
            num_things_classes=num_things_classes,
            num_stuff_classes=num_stuff_classes,
            test_cfg=_merge_test_cfg(test_cfg),
            loss_panoptic=copy.deepcopy(loss_panoptic),
            init_cfg=init_cfg)
        self.keep_fraction = keep_fraction
        self.with_unknown = with_unknown

    # ------------------------------------------------------------- train
    def sample_instances(self,
                         batch_gt_instances: InstanceList) -> InstanceList:
        """The random subset of GT instances the panoptic loss uses.

        mmdet keeps crowd instances out of ``gt_instances``, so every one
        here is non-crowd. ``max(int(n * keep_fraction), 1)`` are drawn
        without replacement (torch's RNG), kept in GT order.

        Args:
            batch_gt_instances (list[InstanceData]): Per image ``bboxes``
                (n, 4) and ``labels`` (n,).

        Returns:
            list[InstanceData]: Per image ``bboxes`` (K, 4) tensor,
            ``labels`` (K,) and ``gt_inds`` (K,), the index in the GT.
        """
        sampled = []
        for gt in batch_gt_instances:
            bboxes = get_box_tensor(gt.bboxes)
            num = bboxes.shape[0]
            num_keep = max(int(num * self.keep_fraction), 1) if num else 0
            inds = torch.randperm(num)[:num_keep].sort()[0].to(bboxes.device)
            sampled.append(
                InstanceData(
                    bboxes=bboxes[inds], labels=gt.labels[inds], gt_inds=inds))
        return sampled

    def loss(self, fg: FGContext, seg: SemanticLogits,
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """``loss_panoptic`` on a random subset of the GT instances
        (:meth:`sample_instances`) with the mask head's logits on their
        boxes; empty for an inference-only head."""
        if self.loss_panoptic is None:
            return {}
        stuff, things = seg.split(seg.seg_preds)
        instances = fg.add_mask_logits(
            self.sample_instances(
                [s.gt_instances for s in batch_data_samples]))
        return self.loss_by_logits(stuff, things, instances,
                                   batch_data_samples)

    def loss_by_logits(self, stuff_logits: Tensor, thing_logits: Tensor,
                       instances: InstanceList,
                       batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Panoptic cross-entropy at the semantic logits' resolution.

        Args:
            stuff_logits (Tensor): (B, S, h, w) with h = H_pad / r, r the
                logits' stride (4) w.r.t. the padded batch input.
            thing_logits (Tensor): (B, T, h, w).
            instances (list[InstanceData]): From :meth:`sample_instances`,
                plus ``mask_logits`` (K, m, m) of each GT class.
            batch_data_samples (list[DetDataSample]): ``gt_sem_seg`` and
                ``gt_instances.masks`` at input resolution.

        Returns:
            dict[str, Tensor]: ``loss_panoptic``.
        """
        height, width = stuff_logits.shape[-2:]
        pad_h, pad_w = batch_data_samples[0].metainfo['batch_input_shape']
        stride = pad_h // height
        if (height * stride, width * stride) != (pad_h, pad_w):
            raise ValueError(
                f'semantic logits {height}x{width} are not the padded input '
                f'{pad_h}x{pad_w} divided by an integer stride: pad the '
                'input to a multiple of 32 (data_preprocessor.'
                'pad_size_divisor)')
        losses = []
        for i, (inst, sample) in enumerate(zip(instances, batch_data_samples)):
            logits = panoptic_logits(
                stuff_logits[i],
                thing_logits[i],
                inst.bboxes / stride,
                inst.labels,
                inst.mask_logits,
                with_unknown=self.with_unknown)  # (S + K + U, h, w)
            target = self._target_single(sample, inst.gt_inds, (pad_h, pad_w),
                                         stride)
            losses.append(self.loss_panoptic(logits[None], target[None]))
        return dict(loss_panoptic=torch.stack(losses).mean())

    def _target_single(self, sample, gt_inds: Tensor,
                       pad_shape: Tuple[int, int], stride: int) -> Tensor:
        """(h, w) target of one image: GT padded (void 255, masks 0) to the
        batch input and subsampled every ``stride`` pixels, which is the
        official ×1/4 ``INTER_NEAREST``."""
        sem = _pad_to(sample.gt_sem_seg.sem_seg[0], pad_shape, IGNORE_INDEX)
        masks = sample.gt_instances.masks
        if not isinstance(masks, Tensor):  # mmdet's BitmapMasks
            masks = masks[gt_inds.cpu().numpy()].to_tensor(
                torch.bool, sem.device)
        else:
            masks = masks[gt_inds].bool()
        masks = _pad_to(masks, pad_shape, 0)
        return panoptic_targets(
            sem[::stride, ::stride],
            masks[:, ::stride, ::stride],
            num_things=self.num_things_classes,
            num_stuff=self.num_stuff_classes,
            with_unknown=self.with_unknown)

    # ------------------------------------------------------------- test
    def predict(self, fg: FGContext, seg: SemanticLogits,
                batch_img_metas: List[dict], rescale: bool) -> PixelList:
        """Panoptic maps of the detections (``fg.instances``) and the
        semantic logits at the padded input size."""
        maps = seg.resized(batch_img_metas, rescale=False)
        return self.predict_by_logits(fg.instances,
                                      [seg.split(m) for m in maps],
                                      batch_img_metas, rescale)

    def predict_by_logits(self,
                          instances_list: InstanceList,
                          seg_logits_list: Sequence[Tuple[Tensor, Tensor]],
                          batch_img_metas: List[dict],
                          rescale: bool = True) -> PixelList:
        """Panoptic maps from detections and semantic logits.

        Args:
            instances_list (list[InstanceData]): Per image ``bboxes`` (N, 4)
                in input coordinates, ``labels`` (N,), ``scores`` (N,),
                ``mask_logits`` (N, m, m) of each detection's class.
            seg_logits_list (list[tuple[Tensor, Tensor]]): Per image stuff
                (S, H_pad, W_pad) and thing (T, H_pad, W_pad) logits at the
                padded input resolution.
            batch_img_metas (list[dict]): ``img_shape`` and ``ori_shape``.
            rescale (bool): Return maps at ``ori_shape`` (else
                ``img_shape``).

        Returns:
            list[PixelData]: ``sem_seg`` (1, H, W) int, mmdet's encoding
            ``label + instance_id * INSTANCE_OFFSET``, void = T + S.
        """
        return [
            self._predict_single(inst, stuff, things, meta, rescale)
            for inst, (stuff, things), meta in zip(
                instances_list, seg_logits_list, batch_img_metas)
        ]

    def _predict_single(self, instances: InstanceData, stuff: Tensor,
                        things: Tensor, img_meta: dict,
                        rescale: bool) -> PixelData:
        cfg = self.test_cfg
        height, width = img_meta['img_shape'][:2]
        stuff = stuff[:, :height, :width]  # (S, H, W)
        things = things[:, :height, :width]  # (T, H, W)
        boxes = get_box_tensor(instances.bboxes)
        keep = remove_overlapping_masks(
            instances.mask_logits,
            boxes,
            instances.labels,
            instances.scores,
            height,
            width,
            overlap_thr=cfg['mask_overlap'],
            chunk_size=cfg['instance_chunk'])
        labels = instances.labels[keep]
        pan = panoptic_argmax(
            stuff,
            things,
            boxes[keep],
            labels,
            instances.mask_logits[keep],
            with_unknown=self.with_unknown,
            empty_value=cfg['no_instance_logit'],
            chunk_size=cfg['instance_chunk'])  # (H, W)
        # Semantic argmax over [stuff ; things] without concatenating them.
        stuff_val, stuff_idx = stuff.max(0)
        thing_val, thing_idx = things.max(0)
        sem = torch.where(thing_val > stuff_val,
                          thing_idx + self.num_stuff_classes, stuff_idx)
        if rescale:
            size = tuple(img_meta['ori_shape'][:2])
            pan, sem = (_resize_nearest(t, size) for t in (pan, sem))
        out = unify_panoptic(
            pan,
            sem,
            labels,
            num_things=self.num_things_classes,
            num_stuff=self.num_stuff_classes,
            relabel_to_stuff=cfg['relabel_to_stuff'],
            stuff_area_limit=cfg['stuff_area_limit'])
        return PixelData(sem_seg=out[None].int())


def _merge_test_cfg(test_cfg: Optional[dict]) -> dict:
    """``TEST_DEFAULTS`` updated with ``test_cfg``; unknown keys fail."""
    merged = dict(TEST_DEFAULTS)
    for key, value in (test_cfg or {}).items():
        if key not in TEST_DEFAULTS:
            raise KeyError(
                f'model.test_cfg.panoptic.{key} is not a setting of '
                f'UPSNetPanopticHead; expected one of {sorted(TEST_DEFAULTS)}')
        merged[key] = value
    return merged


def _pad_to(x: Tensor, shape: Tuple[int, int], value: int) -> Tensor:
    """Pad (or crop) the last two dims of ``x`` to ``shape``, bottom-right."""
    pad_h, pad_w = shape[0] - x.shape[-2], shape[1] - x.shape[-1]
    if pad_h == 0 and pad_w == 0:
        return x
    dtype = x.dtype
    x = x.to(torch.uint8) if dtype == torch.bool else x
    x = F.pad(x, (0, pad_w, 0, pad_h), value=value)
    return x.to(dtype)


def _resize_nearest(index: Tensor, size: Tuple[int, int]) -> Tensor:
    """Nearest resize of an (H, W) index map (official ``INTER_NEAREST``)."""
    if tuple(index.shape) == tuple(size):
        return index
    out = F.interpolate(index[None, None].float(), size=size, mode='nearest')
    return out[0, 0].long()
