"""mmdet's max-IoU assigner without host-device syncs."""
import torch
from mmdet.models.task_modules.assigners import AssignResult, MaxIoUAssigner
from torch import Tensor

from panoptic_zoo.registry import TASK_UTILS


@TASK_UTILS.register_module()
class SyncFreeMaxIoUAssigner(MaxIoUAssigner):
    """mmdet's ``MaxIoUAssigner`` with the same assignment, bit for bit,
    computed without reading a device value on the host.

    mmdet's low-quality matching loops over the K ground truths with a
    Python ``if gt_max_overlaps[i] >= min_pos_iou`` (one sync each) and a
    boolean-mask write (another), and writes negatives, positives and
    labels through boolean masks and ``nonzero``: about half of a Mask
    R-CNN training step's ~180 syncs with 15 objects per image. Here each
    step is a ``torch.where`` over all priors; in the loop, a later ground
    truth overwrites an earlier one, so each prior takes the largest
    matching GT index (``amax``), which is the same result. Memory: one
    (K, N) int32 map while matching low-quality priors with
    ``gt_max_assign_all``.

    Arguments are mmdet's ``MaxIoUAssigner``'s.
    """

    def assign_wrt_overlaps(self, overlaps: Tensor,
                            gt_labels: Tensor) -> AssignResult:
        """Assign each of N priors to one of K ground truths, to the
        background (0) or to nothing (-1), from their (K, N) IoUs.

        Args:
            overlaps (Tensor): (K, N) IoU of ground truths with priors.
            gt_labels (Tensor): (K, ) labels of the ground truths.

        Returns:
            AssignResult: ``gt_inds`` (N, ) 1-based GT index / 0 / -1,
            ``max_overlaps`` (N, ) and ``labels`` (N, ) (-1 if unassigned),
            equal to mmdet's.
        """
        num_gts, num_priors = overlaps.shape
        if num_gts == 0 or num_priors == 0:
            return super().assign_wrt_overlaps(overlaps, gt_labels)
        assigned = overlaps.new_full((num_priors, ), -1, dtype=torch.long)
        max_overlaps, argmax_overlaps = overlaps.max(dim=0)  # (N, )
        gt_max_overlaps, gt_argmax_overlaps = overlaps.max(dim=1)  # (K, )

        if isinstance(self.neg_iou_thr, (float, tuple)):
            low, high = (0, self.neg_iou_thr) if isinstance(
                self.neg_iou_thr, float) else self.neg_iou_thr
            negative = (max_overlaps >= low) & (max_overlaps < high)
            assigned = assigned.masked_fill(negative, 0)
        positive = max_overlaps >= self.pos_iou_thr
        assigned = torch.where(positive, argmax_overlaps + 1, assigned)

        if self.match_low_quality:
            gt_index = torch.arange(
                1, num_gts + 1, device=overlaps.device, dtype=torch.int32)
            # GTs whose best prior clears min_pos_iou; 0 never wins below.
            gt_index = gt_index.masked_fill(
                gt_max_overlaps < self.min_pos_iou, 0)
            if self.gt_max_assign_all:
                best = overlaps == gt_max_overlaps[:, None]  # (K, N)
                winner = torch.where(best, gt_index[:, None],
                                     0).amax(dim=0)  # (N, )
            else:
                winner = gt_index.new_zeros(num_priors).scatter_reduce(
                    0, gt_argmax_overlaps, gt_index, reduce='amax')
            assigned = torch.where(winner > 0, winner.long(), assigned)

        labels = gt_labels[(assigned - 1).clamp(min=0)].to(assigned.dtype)
        labels = torch.where(assigned > 0, labels, -1)
        return AssignResult(
            num_gts=num_gts,
            gt_inds=assigned,
            max_overlaps=max_overlaps,
            labels=labels)
