"""The RPN's class-agnostic view of a sample, without a deep copy."""
import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData, PixelData

from panoptic_zoo.models.segmentors.fg_branch import rpn_sample


def _sample():
    sample = DetDataSample(metainfo=dict(img_shape=(8, 10), scale_factor=(
        1., 1.)))
    masks = BitmapMasks(np.ones((2, 8, 10), np.uint8), 8, 10)
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[0., 0., 4., 4.], [2., 2., 9., 7.]]),
        labels=torch.tensor([3, 5]),
        masks=masks)
    sample.ignored_instances = InstanceData(
        bboxes=torch.tensor([[1., 1., 2., 2.]]), labels=torch.tensor([1]))
    sample.gt_sem_seg = PixelData(sem_seg=torch.zeros(1, 8, 10))
    return sample


def test_labels_zero_and_original_untouched():
    sample = _sample()
    rpn = rpn_sample(sample)
    assert torch.equal(rpn.gt_instances.labels, torch.zeros(2,
                                                            dtype=torch.long))
    assert torch.equal(sample.gt_instances.labels, torch.tensor([3, 5]))
    assert torch.equal(rpn.gt_instances.bboxes, sample.gt_instances.bboxes)
    assert rpn.metainfo == sample.metainfo
    assert rpn.ignored_instances is sample.ignored_instances


def test_no_copy_of_masks_or_semantic_map():
    # Deep-copying the full-image masks was most of the step's host time.
    sample = _sample()
    rpn = rpn_sample(sample)
    assert rpn.gt_instances.masks is sample.gt_instances.masks
    assert rpn.gt_instances.bboxes is sample.gt_instances.bboxes
    assert 'gt_sem_seg' not in rpn


def test_without_ignored_instances():
    sample = _sample()
    del sample.ignored_instances
    assert 'ignored_instances' not in rpn_sample(sample)
