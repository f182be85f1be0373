"""RoIUpsample: RoI features scattered back onto a feature map (AUNet).

RoIAlign (mmcv's ``roi_align``, average mode) is linear in its input: for
each RoI k it reads ``y_k = A_k x_{b_k}``, where ``A_k`` holds the bilinear
weights of the RoI's sampling grid divided by the number of samples per bin.
RoIUpsample goes the other way, ``x_b = Σ_{k: b_k = b} A_k^T y_k``: each
RoI's m×m values are spread onto the H×W map with the weights RoIAlign read
them with, overlaps summed, zero where no RoI reaches. Two modes:

- ``normalize=False`` (default): the exact adjoint (transpose) of mmcv's
  ``roi_align`` with the same arguments, ``<roi_align(x), y> = <x,
  roi_upsample(y)>``. mmcv's ``roi_align_backward`` kernel computes exactly
  ``A^T``, so this mode *is* that compiled kernel (CPU and CUDA: its
  sampling grid, adaptive ``sampling_ratio``, border rules and ``1/count``
  by construction); its backward is mmcv's ``roi_align`` forward.
- ``normalize=True``: the AUNet paper's eq. 5-6 (Li et al., CVPR 2019) as in
  the only public RoIUpsample op (FIDELITY.md §9): each sample spreads the
  bin's value to its 4 neighbours with weights ``b_j / Σ_i b_i²`` (``b`` the
  bilinear weights, ``Σ b² = (hy² + ly²)(hx² + lx²)``), without ``1/count``.
  Bilinearly re-sampling the scattered value at the same point returns it (a
  per-sample pseudo-inverse), so this is *not* the adjoint. Pure torch,
  differentiated by autograd.

The normalised mode uses that RoIAlign's weights factor over the two axes
(bilinear weights, the ``y < -1 or y > H`` skip rule, the clamping and
``1/count = 1/(g_h g_w)`` all do): ``A_k = W^y_k ⊗ W^x_k`` with
``W^y_k`` (m_h, H) and ``W^x_k`` (m_w, W) built by :func:`roi_align_weights`,
so the scatter is two matrix products and never materialises per-sample
values. :func:`roi_align_weights` with ``normalize=False`` reproduces
mmcv's ``roi_align`` (tested), which pins the normalised mode to the same
sampling grid.
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.ops import roi_align
from mmcv.utils import ext_loader
from torch import Tensor
from torch.autograd import Function

# The compiled kernel behind mmcv's RoIAlign backward: it is A^T itself.
_ext = ext_loader.load_ext('_ext', ['roi_align_backward'])

_AVG_POOL = 1  # mmcv's pool_mode code for 'avg'


class _RoIAlignTranspose(Function):
    """Exact adjoint of mmcv's ``roi_align``: its backward kernel forward,
    its forward as the backward (itself differentiable, so double backward
    works too)."""

    @staticmethod
    def forward(ctx, roi_feats: Tensor, rois: Tensor,
                out_shape: Tuple[int, int, int], spatial_scale: float,
                sampling_ratio: int, aligned: bool) -> Tensor:
        num_imgs, height, width = out_shape
        num_rois, channels, out_h, out_w = roi_feats.shape
        ctx.args = ((out_h, out_w), spatial_scale, sampling_ratio, aligned)
        ctx.save_for_backward(rois)
        out = roi_feats.new_zeros((num_imgs, channels, height, width))
        if num_rois > 0:
            empty = roi_feats.new_zeros(0)  # argmax, unused in avg mode
            _ext.roi_align_backward(
                roi_feats.contiguous(),
                rois,
                empty,
                empty,
                out,
                aligned_height=out_h,
                aligned_width=out_w,
                spatial_scale=spatial_scale,
                sampling_ratio=sampling_ratio,
                pool_mode=_AVG_POOL,
                aligned=aligned)
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor) -> tuple:
        rois, = ctx.saved_tensors
        size, spatial_scale, sampling_ratio, aligned = ctx.args
        if rois.shape[0] == 0:
            grad = grad_out.new_zeros((0, grad_out.shape[1]) + size)
        else:
            # mmcv's kernels index raw memory: they need contiguous input.
            grad = roi_align(grad_out.contiguous(), rois, size, spatial_scale,
                             sampling_ratio, 'avg', aligned)
        return grad, None, None, None, None, None


def roi_upsample(roi_feats: Tensor,
                 rois: Tensor,
                 out_shape: Sequence[int],
                 spatial_scale: float = 1.0,
                 sampling_ratio: int = 0,
                 aligned: bool = True,
                 normalize: bool = False) -> Tensor:
    """Scatter RoI features back onto a (B, C, H, W) map.

    Args:
        roi_feats (Tensor): (K, C, m_h, m_w) values per RoI; K RoIs, C
            channels, an m_h×m_w grid of bins (m×m for masks).
        rois (Tensor): (K, 5) ``(batch index, x1, y1, x2, y2)`` in input
            coordinates, as for mmcv's ``roi_align``.
        out_shape (Sequence[int]): (B, H, W): B images, map height and width.
        spatial_scale (float): Map cells per input pixel (1 / stride).
        sampling_ratio (int): Samples per bin side; 0 takes
            ``ceil(roi_size / m)`` per RoI, as RoIAlign does.
        aligned (bool): mmcv's pixel-shift convention (``-0.5``).
        normalize (bool): Use the paper's eq. 5-6 weights (a per-sample
            pseudo-inverse of RoIAlign) instead of the exact adjoint.

    Returns:
        Tensor: (B, C, H, W), dtype and device of ``roi_feats``.

    Raises:
        ValueError: on shapes that do not fit together.
    """
    if roi_feats.dim() != 4:
        raise ValueError('roi_upsample: roi_feats must be (K, C, m_h, m_w), '
                         f'got shape {tuple(roi_feats.shape)}')
    if rois.dim() != 2 or rois.shape[1] != 5 or \
            rois.shape[0] != roi_feats.shape[0]:
        raise ValueError('roi_upsample: rois must be (K, 5) with K = '
                         f'{roi_feats.shape[0]} (roi_feats), got shape '
                         f'{tuple(rois.shape)}')
    if len(out_shape) != 3 or min(out_shape) < 1:
        raise ValueError('roi_upsample: out_shape must be (B, H, W), all '
                         f'positive, got {tuple(out_shape)}')
    out_shape = tuple(int(s) for s in out_shape)
    rois = rois.detach()
    if not normalize:
        # mmcv's kernels read the boxes with the features' dtype.
        return _RoIAlignTranspose.apply(roi_feats,
                                        rois.to(roi_feats.dtype).contiguous(),
                                        out_shape, float(spatial_scale),
                                        int(sampling_ratio), bool(aligned))
    # The sampling grid in at least float32: half precision would move the
    # samples of boxes far from the origin by whole cells.
    rois = rois.to(torch.promote_types(rois.dtype, torch.float32))
    return _normalized_upsample(roi_feats, rois, out_shape, spatial_scale,
                                sampling_ratio, aligned)


def roi_align_weights(rois: Tensor,
                      output_size: Tuple[int, int],
                      map_size: Tuple[int, int],
                      spatial_scale: float = 1.0,
                      sampling_ratio: int = 0,
                      aligned: bool = True,
                      normalize: bool = False) -> Tuple[Tensor, Tensor]:
    """RoIAlign's sampling weights per axis, mmcv's grid and border rules.

    For RoI k, bin (i, j) and map cell (h, w) the weight RoIAlign gives
    ``x[h, w]`` in bin (i, j) is ``wy[k, i, h] * wx[k, j, w]``. Per axis,
    a sample at ``t`` (``start + i * bin + (s + 0.5) * bin / g``, s < g)
    is skipped if ``t < -1`` or ``t > L``, else clamped to ``[0, L - 1]``
    and split between its two neighbours with weights ``(1 - l, l)``;
    samples are summed over the bin and divided by ``g`` (exact mode) or
    each weight is divided by ``(1 - l)² + l²`` (``normalize``, no ``1/g``).

    Args:
        rois (Tensor): (K, 5) ``(batch index, x1, y1, x2, y2)``.
        output_size (tuple[int, int]): (m_h, m_w) bins per RoI.
        map_size (tuple[int, int]): (H, W) of the feature map.
        spatial_scale (float): Map cells per input pixel.
        sampling_ratio (int): Samples per bin side, 0 for adaptive.
        aligned (bool): mmcv's ``-0.5`` pixel shift.
        normalize (bool): The paper's eq. 5-6 weights.

    Returns:
        tuple[Tensor, Tensor]: ``wy`` (K, m_h, H) and ``wx`` (K, m_w, W),
        dtype of ``rois``.
    """
    # mmcv multiplies by spatial_scale as a float32 before the cast to T.
    scale = float(torch.tensor(spatial_scale, dtype=torch.float32))
    offset = 0.5 if aligned else 0.0
    start = rois[:, 1:] * scale - offset  # (K, 4): x1, y1, x2, y2
    size = start[:, 2:] - start[:, :2]  # (K, 2): roi width, height
    if not aligned:  # mmcv: legacy RoIs are at least one cell wide
        size = size.clamp(min=1.0)
    out_h, out_w = output_size
    height, width = map_size
    wy = _axis_weights(start[:, 1], size[:, 1], out_h, height, sampling_ratio,
                       normalize)
    wx = _axis_weights(start[:, 0], size[:, 0], out_w, width, sampling_ratio,
                       normalize)
    return wy, wx


def _axis_weights(start: Tensor, size: Tensor, bins: int, length: int,
                  sampling_ratio: int, normalize: bool) -> Tensor:
    """(K, bins, length) weights of one axis; see
    :func:`roi_align_weights`. ``start`` and ``size`` are (K,)."""
    num_rois = start.shape[0]
    bin_size = size / bins  # (K,)
    if sampling_ratio > 0:
        grid = torch.full_like(start, sampling_ratio)
    else:
        # mmcv's ceilf: the ratio is rounded to float32 before the ceil.
        grid = torch.ceil((size / bins).float()).to(start.dtype)
    max_grid = max(int(grid.max()), 1) if num_rois else 1
    idx_bin = torch.arange(bins, device=start.device, dtype=start.dtype)
    idx_smp = torch.arange(max_grid, device=start.device, dtype=start.dtype)
    # Sample positions, mmcv's order of operations, (K, bins, G).
    pos = (
        start[:, None, None] +
        idx_bin[None, :, None] * bin_size[:, None, None] +
        (idx_smp[None, None, :] + 0.5) * bin_size[:, None, None] /
        grid[:, None, None])
    valid = (pos >= -1) & (pos <= length) & (idx_smp < grid[:, None, None])
    pos = pos.clamp(min=0)
    low = pos.floor().clamp(max=length - 1)  # clamped cells sit on L - 1
    pos = torch.minimum(pos, low.new_tensor(length - 1.0))
    frac = pos - low  # l; the weights are (1 - l) on low, l on high
    high = (low + 1).clamp(max=length - 1)
    weights = torch.stack([1 - frac, frac], dim=-1)  # (K, bins, G, 2)
    if normalize:
        weights = weights / (weights**2).sum(-1, keepdim=True)
    else:
        weights = weights / grid[:, None, None, None]
    weights = weights * valid[..., None]
    index = torch.stack([low, high], dim=-1).long()  # (K, bins, G, 2)
    out = start.new_zeros((num_rois, bins, length))
    return out.scatter_add_(2, index.flatten(2), weights.flatten(2))


def _normalized_upsample(roi_feats: Tensor, rois: Tensor,
                         out_shape: Tuple[int, int, int], spatial_scale: float,
                         sampling_ratio: int, aligned: bool) -> Tensor:
    """``normalize=True``: Σ_k (W^y_k)^T y_k W^x_k per image, by autograd.

    Memory is O(K·C·m_h·W + B·H·K·m_h): meant for few channels (masks).
    """
    num_imgs, height, width = out_shape
    num_rois, channels, out_h, out_w = roi_feats.shape
    wy, wx = roi_align_weights(
        rois, (out_h, out_w), (height, width),
        spatial_scale,
        sampling_ratio,
        aligned,
        normalize=True)
    wy, wx = wy.to(roi_feats.dtype), wx.to(roi_feats.dtype)
    cols = torch.matmul(roi_feats, wx[:, None])  # (K, C, m_h, W)
    # Each RoI's rows go to its own image: a (K, B) one-hot picks them.
    onehot = F.one_hot(rois[:, 0].long(), num_imgs).to(roi_feats.dtype)
    lhs = (wy[:, None] * onehot[:, :, None, None])  # (K, B, m_h, H)
    lhs = lhs.permute(1, 3, 0, 2).reshape(num_imgs, height,
                                          num_rois * out_h)  # (B, H, K·m_h)
    rhs = cols.permute(0, 2, 1, 3).reshape(num_rois * out_h,
                                           channels * width)  # (K·m_h, C·W)
    out = torch.matmul(lhs, rhs)  # (B, H, C·W)
    return out.view(num_imgs, height, channels,
                    width).permute(0, 2, 1, 3).contiguous()  # (B, C, H, W)
