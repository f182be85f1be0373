"""Timing of :func:`roi_upsample` against mmcv's ``roi_align`` in one run.

RoIUpsample's exact mode is RoIAlign's transpose, so the natural reference
is RoIAlign's backward (the same scatter) and forward (the same gather).
Everything is measured on the same tensors, in the same process; the ratios
are what to report (``tools/benchmark_roi_upsample.py`` prints them).
"""
import time
from typing import Callable, Dict, List

import torch
from mmcv.ops import roi_align
from torch import Tensor

from panoptic_zoo.ops.roi_upsample import roi_upsample


def make_rois(num_rois: int, num_imgs: int, map_size: tuple, stride: int,
              generator: torch.Generator) -> Tensor:
    """(num_rois, 5) boxes in input pixels, 8 to 128 map cells a side (the
    size range FPN's rule sends to one level), inside the image."""
    height, width = map_size
    side = torch.empty(num_rois, 2).uniform_(8, 128, generator=generator)
    side = torch.minimum(side, torch.tensor([width - 1.0, height - 1.0]))
    room = torch.tensor([width, height]) - side
    corner = torch.rand(num_rois, 2, generator=generator) * room
    batch = torch.randint(num_imgs, (num_rois, 1), generator=generator)
    return torch.cat(
        [batch.float(), corner * stride, (corner + side) * stride], dim=1)


def _time(fn: Callable[[], object], device: torch.device, warmup: int,
          iters: int) -> float:
    """Median milliseconds of ``fn`` (synchronised on CUDA)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)[len(times) // 2]


def benchmark_roi_upsample(num_rois: int = 512,
                           roi_size: int = 28,
                           map_size: tuple = (200, 304),
                           num_imgs: int = 2,
                           channels: int = 1,
                           stride: int = 4,
                           device: str = 'cuda',
                           warmup: int = 5,
                           iters: int = 30,
                           seed: int = 0) -> Dict[str, float]:
    """Milliseconds of each operation and the ratios to mmcv's.

    Args:
        num_rois (int): K RoIs.
        roi_size (int): m, bins per RoI side.
        map_size (tuple): (H, W) of the feature map.
        num_imgs (int): B images the RoIs are spread over.
        channels (int): C channels.
        stride (int): Input pixels per map cell (spatial_scale = 1/stride).
        device (str): Where to run.
        warmup (int): Untimed calls first.
        iters (int): Timed calls; the median is kept.
        seed (int): Seed of the RoIs and values.

    Returns:
        dict[str, float]: ``*_ms`` times and ``*_vs_*`` ratios (ours /
        mmcv's, < 1 means faster).
    """
    dev = torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    rois = make_rois(num_rois, num_imgs, map_size, stride, gen).to(dev)
    scale = 1.0 / stride
    x = torch.randn(num_imgs, channels, *map_size, generator=gen).to(dev)
    y = torch.randn(
        num_rois, channels, roi_size, roi_size, generator=gen).to(dev)
    x.requires_grad_(True)
    y.requires_grad_(True)
    grad_map = torch.randn_like(x)
    grad_rois = torch.randn_like(y)

    pooled = roi_align(x, rois, roi_size, scale, 0, 'avg', True)
    res = {
        'mmcv_roi_align_fwd_ms':
        _time(lambda: roi_align(x, rois, roi_size, scale, 0, 'avg', True), dev,
              warmup, iters),
        'mmcv_roi_align_bwd_ms':
        _time(
            lambda: torch.autograd.grad(
                pooled, x, grad_rois, retain_graph=True), dev, warmup, iters)
    }
    for mode, normalize in (('exact', False), ('normalized', True)):
        out = roi_upsample(
            y,
            rois, (num_imgs, ) + tuple(map_size),
            scale,
            normalize=normalize)
        res[f'{mode}_fwd_ms'] = _time(
            lambda: roi_upsample(
                y,
                rois, (num_imgs, ) + tuple(map_size),
                scale,
                normalize=normalize), dev, warmup, iters)
        res[f'{mode}_bwd_ms'] = _time(
            lambda: torch.autograd.grad(out, y, grad_map, retain_graph=True),
            dev, warmup, iters)
        del out
    for mode in ('exact', 'normalized'):
        for ref in ('fwd', 'bwd'):
            res[f'{mode}_fwd_vs_mmcv_{ref}'] = (
                res[f'{mode}_fwd_ms'] / res[f'mmcv_roi_align_{ref}_ms'])
        res[f'{mode}_bwd_vs_mmcv_fwd'] = (
            res[f'{mode}_bwd_ms'] / res['mmcv_roi_align_fwd_ms'])
    return res


def format_results(results: List[Dict[str, float]],
                   settings: List[str]) -> str:
    """A plain-text table, one block per setting."""
    lines = []
    for setting, res in zip(settings, results):
        lines.append(setting)
        for key, value in res.items():
            unit = '' if key.endswith('_ms') else 'x'
            lines.append(f'  {key:32s} {value:10.3f}{unit}')
    return '\n'.join(lines)
