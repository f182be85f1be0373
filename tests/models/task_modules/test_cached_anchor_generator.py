"""CachedAnchorGenerator: mmdet's anchors and flags, built once a layout."""
from unittest import mock

import pytest
import torch
from mmdet.models.task_modules.prior_generators import AnchorGenerator

from panoptic_zoo.models.task_modules import CachedAnchorGenerator
from panoptic_zoo.registry import TASK_UTILS

# Panoptic FPN's RPN anchors.
CFG = dict(scales=[8], ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64])


def layout(height, width):
    """Feature-map sizes of a padded image, one per stride."""
    return [(-(-height // s), -(-width // s)) for s in CFG['strides']]


SIZES = layout(200, 304)  # (50, 76), (25, 38), ..., (4, 5)
A, B, C = layout(64, 96), layout(96, 64), layout(128, 128)


def test_same_anchors_and_flags_as_mmdet():
    ours = TASK_UTILS.build(dict(type='CachedAnchorGenerator', **CFG))
    ref = AnchorGenerator(**CFG)
    for dtype in (torch.float32, torch.float16):
        for _ in range(2):  # built, then from the cache
            got = ours.grid_priors(SIZES, dtype=dtype, device='cpu')
            want = ref.grid_priors(SIZES, dtype=dtype, device='cpu')
            assert len(got) == len(want) == 5
            for a, b in zip(got, want):
                assert a.dtype == dtype and torch.equal(a, b)
    for pad_shape in ((180, 290, 3), (150, 260)):
        for _ in range(2):
            got = ours.valid_flags(SIZES, pad_shape, device='cpu')
            want = ref.valid_flags(SIZES, pad_shape, device='cpu')
            assert all(torch.equal(a, b) for a, b in zip(got, want))
            assert not all(bool(a.all()) for a in got)  # some invalid


def test_built_once_per_layout_and_lists_are_fresh():
    gen = CachedAnchorGenerator(**CFG)
    with mock.patch.object(
            AnchorGenerator, 'grid_priors',
            side_effect=AnchorGenerator.grid_priors,
            autospec=True) as build:
        first = gen.grid_priors(SIZES, device='cpu')
        first.append('caller data')
        second = gen.grid_priors(SIZES, device='cpu')
        assert build.call_count == 1
        assert len(second) == 5
        assert all(a is b for a, b in zip(first, second))
        gen.grid_priors(A, device='cpu')  # another layout
        gen.grid_priors(SIZES, dtype=torch.float16, device='cpu')
        assert build.call_count == 3


def test_least_recently_used_layout_is_dropped():
    gen = CachedAnchorGenerator(cache_size=2, **CFG)
    with mock.patch.object(
            AnchorGenerator, 'grid_priors',
            side_effect=AnchorGenerator.grid_priors,
            autospec=True) as build:
        for sizes in (A, B, A, C, A, B):
            gen.grid_priors(sizes, device='cpu')
        # A is kept warm by its uses; B is dropped when C comes.
        assert build.call_count == 4


def test_bad_cache_size():
    with pytest.raises(ValueError, match='cache_size'):
        CachedAnchorGenerator(cache_size=0, **CFG)
