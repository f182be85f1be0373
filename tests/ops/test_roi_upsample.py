"""RoIUpsample: adjoint of mmcv's roi_align, its normalised variant."""
import pytest
import torch
from mmcv.ops import roi_align

from panoptic_zoo.ops.roi_upsample import roi_align_weights, roi_upsample

SETTINGS = [  # (aligned, sampling_ratio, spatial_scale)
    (True, 0, 1.0), (True, 2, 0.25), (True, 1, 0.5), (False, 0, 0.125),
    (False, 2, 1.0), (False, 3, 0.25)
]


def random_rois(num: int,
                num_imgs: int,
                size: tuple,
                scale: float,
                generator: torch.Generator,
                dtype=torch.float64) -> torch.Tensor:
    """(num, 5) RoIs in input pixels: tiny to larger than the map, many
    crossing its borders."""
    height, width = size
    extent = torch.tensor([width, height], dtype=dtype) / scale
    corner = torch.rand(num, 2, generator=generator, dtype=dtype)
    corner = corner * extent * 1.4 - 0.2 * extent  # some start outside
    side = torch.rand(num, 2, generator=generator, dtype=dtype)
    side = side**3 * extent * 1.5  # many tiny boxes, a few huge ones
    side[:3] = torch.tensor([0.01, 0.3, 2.0], dtype=dtype)[:, None]
    side[3] = extent * 2  # covers the whole map and more
    batch = torch.randint(num_imgs, (num, 1), generator=generator)
    return torch.cat([batch.to(dtype), corner, corner + side], dim=1)


@pytest.mark.parametrize('aligned,sampling_ratio,scale', SETTINGS)
def test_adjoint_of_mmcv_roi_align(aligned, sampling_ratio, scale):
    gen = torch.Generator().manual_seed(7)
    num_imgs, channels, size, bins = 2, 3, (13, 19), (7, 5)
    rois = random_rois(24, num_imgs, size, scale, gen)
    x = torch.randn(
        num_imgs, channels, *size, generator=gen, dtype=torch.float64)
    y = torch.randn(24, channels, *bins, generator=gen, dtype=torch.float64)
    pooled = roi_align(x, rois, bins, scale, sampling_ratio, 'avg', aligned)
    scattered = roi_upsample(y, rois, (num_imgs, ) + size, scale,
                             sampling_ratio, aligned)
    assert scattered.shape == (num_imgs, channels) + size
    lhs, rhs = (pooled * y).sum(), (x * scattered).sum()
    assert torch.allclose(lhs, rhs, rtol=1e-12, atol=1e-12)
    assert scattered.abs().sum() > 0


@pytest.mark.parametrize('aligned,sampling_ratio,scale', SETTINGS)
def test_axis_weights_reproduce_roi_align(aligned, sampling_ratio, scale):
    # The normalised mode's grid: separable weights equal mmcv's RoIAlign.
    gen = torch.Generator().manual_seed(11)
    size, bins = (11, 16), (6, 4)
    rois = random_rois(30, 2, size, scale, gen)
    x = torch.randn(2, 2, *size, generator=gen, dtype=torch.float64)
    wy, wx = roi_align_weights(rois, bins, size, scale, sampling_ratio,
                               aligned)
    ours = torch.einsum('kih,kchw,kjw->kcij', wy, x[rois[:, 0].long()], wx)
    ref = roi_align(x, rois, bins, scale, sampling_ratio, 'avg', aligned)
    assert torch.allclose(ours, ref, atol=1e-12)


def test_float32_adjoint_and_empty():
    gen = torch.Generator().manual_seed(3)
    rois = random_rois(50, 3, (40, 30), 0.25, gen, dtype=torch.float32)
    x = torch.randn(3, 4, 40, 30, generator=gen)
    y = torch.randn(50, 4, 14, 14, generator=gen)
    lhs = (roi_align(x, rois, 14, 0.25, 0, 'avg', True) * y).sum()
    rhs = (x * roi_upsample(y, rois, (3, 40, 30), 0.25)).sum()
    assert torch.allclose(lhs, rhs, rtol=1e-5)
    for normalize in (False, True):
        feats = torch.zeros(0, 4, 14, 14, requires_grad=True)
        out = roi_upsample(
            feats, torch.zeros(0, 5), (2, 9, 8), normalize=normalize)
        assert out.shape == (2, 4, 9, 8) and not out.any()
        out.sum().backward()
        assert feats.grad.shape == feats.shape


@pytest.mark.parametrize('normalize', [False, True])
def test_gradcheck(normalize):
    gen = torch.Generator().manual_seed(5)
    # Few inputs: each gradcheck evaluation is a full forward.
    rois = random_rois(4, 2, (9, 10), 0.5, gen)
    y = torch.randn(4, 1, 2, 3, generator=gen, dtype=torch.float64)
    y.requires_grad_(True)

    def func(feats):
        return roi_upsample(feats, rois, (2, 9, 10), 0.5, 0, True, normalize)

    assert torch.autograd.gradcheck(func, (y, ))
    if not normalize:  # the custom Function; the other is plain autograd
        assert torch.autograd.gradgradcheck(func, (y, ))


def test_backward_of_exact_mode_is_roi_align():
    gen = torch.Generator().manual_seed(9)
    rois = random_rois(10, 2, (12, 12), 0.5, gen)
    y = torch.randn(
        10, 3, 4, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    grad_out = torch.randn(2, 3, 12, 12, generator=gen, dtype=torch.float64)
    roi_upsample(y, rois, (2, 12, 12), 0.5, 2, False).backward(grad_out)
    expected = roi_align(grad_out, rois, 4, 0.5, 2, 'avg', False)
    assert torch.allclose(y.grad, expected, atol=1e-14)


@pytest.mark.parametrize('aligned', [True, False])
def test_normalized_round_trip(aligned):
    # One sample per RoI (a 1×1 bin, sampling_ratio 1): scattering v with
    # the eq. 5-6 weights, then bilinearly re-sampling there, returns v,
    # also at the clamped border cells; samples past the skip border
    # (t < -1 or t > L) give 0 both ways.
    gen = torch.Generator().manual_seed(1)
    size = (10, 14)
    extent = torch.tensor([size[1], size[0]], dtype=torch.float64)
    centre = torch.rand(40, 2, generator=gen, dtype=torch.float64)
    centre = centre * (extent + 1.8) - 0.9  # map cells, some past L
    half = torch.rand(40, 2, generator=gen, dtype=torch.float64) * 3 + 1
    batch = torch.randint(2, (40, 1), generator=gen).double()
    shift = 0.5 if aligned else 0.0  # undo mmcv's aligned offset
    rois = torch.cat([batch, centre - half + shift, centre + half + shift], 1)
    values = torch.randn(40, 2, 1, 1, generator=gen, dtype=torch.float64)
    inside = (centre <= extent).all(1)
    assert 5 < inside.sum() < 40
    for k in range(40):  # one RoI at a time: no overlapping supports
        one = rois[k:k + 1]
        scattered = roi_upsample(
            values[k:k + 1],
            one, (2, ) + size,
            sampling_ratio=1,
            aligned=aligned,
            normalize=True)
        resampled = roi_align(scattered, one, 1, 1.0, 1, 'avg', aligned)
        expected = values[k:k + 1] * inside[k]
        assert torch.allclose(resampled, expected, atol=1e-12)
    # The exact adjoint does not have this property.
    k = int(inside.nonzero()[0])
    exact = roi_upsample(
        values[k:k + 1],
        rois[k:k + 1], (2, ) + size,
        sampling_ratio=1,
        aligned=aligned)
    back = roi_align(exact, rois[k:k + 1], 1, 1.0, 1, 'avg', aligned)
    assert not torch.allclose(back, values[k:k + 1])


def test_normalized_overlaps_sum():
    # Overlapping RoIs add up; the map is zero where no RoI reaches.
    rois = torch.tensor([[0, 2.3, 3.1, 9.7, 8.2], [0, 2.3, 3.1, 9.7, 8.2]],
                        dtype=torch.float64)
    y = torch.rand(1, 1, 4, 4, dtype=torch.float64).expand(2, -1, -1, -1)
    one = roi_upsample(y[:1], rois[:1], (1, 12, 12), normalize=True)
    two = roi_upsample(y, rois, (1, 12, 12), normalize=True)
    assert torch.allclose(two, 2 * one)
    assert one[..., :2, :].eq(0).all() and one[..., 10:, :].eq(0).all()
    assert one[..., 3:8, 2:10].gt(0).all()


def test_bad_inputs():
    with pytest.raises(ValueError, match=r'roi_feats must be \(K, C'):
        roi_upsample(torch.zeros(2, 3, 4), torch.zeros(2, 5), (1, 4, 4))
    with pytest.raises(ValueError, match='rois must be'):
        roi_upsample(torch.zeros(2, 1, 4, 4), torch.zeros(3, 5), (1, 4, 4))
    with pytest.raises(ValueError, match='out_shape must be'):
        roi_upsample(torch.zeros(2, 1, 4, 4), torch.zeros(2, 5), (4, 4))


def _upsample_and_grad(y, rois, grad, normalize, device, dtype):
    feats = y.to(device, dtype).detach().clone().requires_grad_(True)
    out = roi_upsample(
        feats, rois.to(device, dtype), (2, 50, 76), 0.25, normalize=normalize)
    out.backward(grad.to(device, dtype))
    return out.detach().cpu().double(), feats.grad.cpu().double()


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('normalize', [False, True])
def test_cuda_matches_cpu(normalize, monkeypatch):
    """Same values and gradients on both devices: to 1e-10 in float64; in
    float32 the GPU's rounding error (against float64) is no worse than
    twice the CPU's.

    A direct float32 comparison at 1e-4 is ill-posed here: the huge RoIs
    sum hundreds of samples per cell (sums of |terms| up to ~900), and the
    CPU's own float32 result is 2e-4 off the float64 one (H100 run: CPU
    2.2e-4, GPU 2.3e-4 on the gradients)."""
    # The scatter is matmuls: compare fp32 with fp32, whatever TF32
    # setting an earlier test or library left behind.
    monkeypatch.setattr(torch.backends.cuda.matmul, 'allow_tf32', False)
    gen = torch.Generator().manual_seed(2)
    rois = random_rois(64, 2, (50, 76), 0.25, gen, dtype=torch.float32)
    y = torch.randn(64, 2, 28, 28, generator=gen)
    grad = torch.randn(2, 2, 50, 76, generator=gen)
    res = {(device, dtype): _upsample_and_grad(y, rois, grad, normalize,
                                               device, dtype)
           for device in ('cpu', 'cuda')
           for dtype in (torch.float32, torch.float64)}
    for cpu, cuda in zip(res['cpu', torch.float64], res['cuda',
                                                        torch.float64]):
        assert cpu.abs().max() > 1
        assert torch.allclose(cpu, cuda, rtol=1e-10, atol=1e-10)
    for k, truth in enumerate(res['cpu', torch.float64]):
        cpu_err = (res['cpu', torch.float32][k] - truth).abs().max()
        cuda_err = (res['cuda', torch.float32][k] - truth).abs().max()
        assert 0 < cuda_err <= 2 * cpu_err
    # The adjoint identity on the GPU too.
    x = torch.randn(2, 2, 50, 76, generator=gen, dtype=torch.float64).cuda()
    if not normalize:
        lhs = (roi_align(x, rois.cuda().double(), 28, 0.25, 0, 'avg', True) *
               y.cuda().double()).sum()
        rhs = (x * res['cuda', torch.float64][0].cuda()).sum()
        assert torch.allclose(lhs, rhs, rtol=1e-10)


def test_benchmark_runs_on_cpu():
    from panoptic_zoo.benchmark.roi_upsample import (
        benchmark_roi_upsample, format_results)
    res = benchmark_roi_upsample(
        num_rois=8,
        roi_size=4,
        map_size=(16, 20),
        channels=2,
        device='cpu',
        warmup=0,
        iters=1)
    assert res['exact_fwd_ms'] > 0 and res['mmcv_roi_align_bwd_ms'] > 0
    assert res['exact_fwd_vs_mmcv_bwd'] == pytest.approx(
        res['exact_fwd_ms'] / res['mmcv_roi_align_bwd_ms'])
    assert 'normalized_bwd_vs_mmcv_fwd' in format_results([res], ['cpu'])
