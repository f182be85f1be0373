"""DeviceRandomSampler: a uniform draw without replacement, mmdet's API."""
import itertools
import math

import numpy as np
import pytest
import torch
from mmdet.models.task_modules.assigners import AssignResult
from mmdet.models.task_modules.samplers import RandomSampler
from mmengine.config import Config, ConfigDict
from mmengine.structures import InstanceData

from panoptic_zoo.models.segmentors.wiring import fill_from_neck
from panoptic_zoo.models.task_modules import DeviceRandomSampler
from panoptic_zoo.registry import MODELS, TASK_UTILS
from panoptic_zoo.testing import config_path


def sampler(**overrides):
    cfg = dict(type='DeviceRandomSampler', num=8, pos_fraction=0.5)
    cfg.update(overrides)
    return TASK_UTILS.build(cfg)


def test_draws_are_subsets_of_the_right_size_without_repeats():
    gallery = torch.randperm(1000)[:300] + 7  # (300,) distinct indices
    for num in (0, 1, 100, 300):
        drawn = sampler().random_choice(gallery, num)
        assert isinstance(drawn, torch.Tensor) and drawn.dtype == torch.long
        assert drawn.shape == (num, ) and drawn.device == gallery.device
        assert len(set(drawn.tolist())) == num
        assert set(drawn.tolist()) <= set(gallery.tolist())
    for container in (list, np.array):  # mmdet's types: ndarray back
        drawn = sampler().random_choice(container(range(10, 30)), 5)
        assert isinstance(drawn, np.ndarray) and drawn.shape == (5, )
        assert len(set(drawn)) == 5 and set(drawn) <= set(range(10, 30))


def test_seeded_draws_repeat_and_equal_mmdets_on_cpu():
    gallery = torch.arange(50, 250)
    mmdet_sampler = RandomSampler(num=8, pos_fraction=0.5)
    draws = []
    for which in (sampler(), sampler(), mmdet_sampler):
        torch.manual_seed(3)
        draws.append(
            torch.stack([which.random_choice(gallery, 20) for _ in range(5)]))
    assert torch.equal(draws[0], draws[1])
    assert torch.equal(draws[0], draws[2])  # same call, same generator
    assert not torch.equal(draws[0][0], draws[0][1])


def test_draws_are_uniform():
    """n = 20, k = 5, D = 20000 draws. An element is drawn with p = k/n,
    a given pair with q = k(k-1)/(n(n-1)); counts are binomial, checked
    within 5 sigma. The chi-square X of the element counts is, with the
    negative covariance of a draw without replacement, n/(n-1) times a
    chi-square with n-1 = 19 degrees of freedom; its quantiles at the
    normal +-5 sigma tails (2.9e-7) are 2.05 and 70.5 (scipy's chi2.ppf),
    so 2 < X < 70.5 (a scheme too even to be random, such as a rotation,
    fails the lower bound)."""
    n, k, draws = 20, 5, 20000
    torch.manual_seed(0)
    gallery = torch.arange(n)
    ours = sampler()
    hits = torch.zeros(n, n, dtype=torch.long)  # pair co-occurrences
    for _ in range(draws):
        chosen = torch.zeros(n, dtype=torch.long)
        chosen[ours.random_choice(gallery, k)] = 1
        hits += chosen[:, None] * chosen[None, :]
    counts = hits.diagonal().double()
    p = k / n
    sigma = math.sqrt(draws * p * (1 - p))
    assert ((counts - draws * p).abs() < 5 * sigma).all(), counts
    chi2 = float(((counts - draws * p)**2).sum() / sigma**2)
    assert 2 < chi2 < 70.5, chi2
    q = k * (k - 1) / (n * (n - 1))
    sigma_pair = math.sqrt(draws * q * (1 - q))
    for i, j in itertools.combinations(range(n), 2):
        assert abs(hits[i, j] - draws * q) < 5 * sigma_pair, (i, j)


def test_plugs_into_the_rpn_and_roi_head_from_a_config():
    cfg = Config.fromfile(
        config_path('panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py')).model
    # The heads built alone: their widths as the segmentor fills them.
    cfg = ConfigDict(fill_from_neck(cfg.to_dict()))
    cfg.train_cfg.rpn.sampler.type = 'DeviceRandomSampler'
    cfg.train_cfg.rcnn.sampler.type = 'DeviceRandomSampler'
    roi_head = MODELS.build(dict(cfg.roi_head, train_cfg=cfg.train_cfg.rcnn))
    rpn_head = MODELS.build(dict(cfg.rpn_head, train_cfg=cfg.train_cfg.rpn))
    assert type(roi_head).__name__ == 'StandardRoIHead'
    assert isinstance(roi_head.bbox_sampler, DeviceRandomSampler)
    assert isinstance(rpn_head.sampler, DeviceRandomSampler)
    assert roi_head.bbox_sampler.num == 512
    # A whole sample: 3 ground truths, 2000 proposals, 25% positives.
    torch.manual_seed(0)
    xy = torch.rand(2000, 2) * 500
    proposals = InstanceData(priors=torch.cat([xy, xy + 50], dim=1))
    gts = InstanceData(
        bboxes=proposals.priors[:3].clone(), labels=torch.tensor([0, 1, 2]))
    gt_inds = torch.randint(0, 4, (2000, ))  # 0 negative, i > 0 gt i - 1
    assign = AssignResult(3, gt_inds, torch.rand(2000), labels=gt_inds - 1)
    result = roi_head.bbox_sampler.sample(assign, proposals, gts)
    assert len(result.pos_inds) == 128  # 512 * 0.25 (gts added first)
    assert len(result.pos_inds) + len(result.neg_inds) == 512
    assert len(set(result.neg_inds.tolist())) == len(result.neg_inds)


def test_bad_config_and_draw_fail_loudly():
    with pytest.raises(TypeError, match='add_gt_as_proposal'):
        sampler(add_gt_as_proposal=True)  # misspelled: not swallowed
    with pytest.raises(ValueError, match='cannot draw 6 from a gallery of 5'):
        sampler().random_choice(torch.arange(5), 6)


@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason='the device draw and its sync check need a GPU')
def test_draws_on_the_gpu_without_sync():
    gallery = torch.arange(100_000, device='cuda')
    ours = sampler()
    ours.random_choice(gallery, 256)  # warm up
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        drawn = ours.random_choice(gallery, 256)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert drawn.is_cuda and drawn.unique().numel() == 256
