"""FLOP counting, peak FLOPS and MFU, on modules with hand-computed FLOPs."""
import pytest
import torch
from torch import nn

from panoptic_zoo.benchmark.complexity import (count_flops, count_params, mfu,
                                               peak_flops)


def test_conv_flops_are_two_cin_cout_k2_hw():
    conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
    x = torch.randn(2, 3, 16, 20)
    # B * 2 * Cin * Cout * k^2 * H * W
    assert count_flops(lambda: conv(x), conv) == 2 * 2 * 3 * 8 * 9 * 16 * 20


def test_linear_and_strided_conv_flops_add_up():
    model = nn.Sequential(
        nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.Flatten(),
        nn.Linear(6 * 5 * 5, 10))
    x = torch.randn(1, 4, 10, 10)
    conv = 2 * 4 * 6 * 9 * 5 * 5  # output 5x5
    linear = 2 * 150 * 10
    assert count_flops(lambda: model(x), model) == conv + linear


def test_deform_conv_counted_as_dense_conv():
    from mmcv.ops import DeformConv2d
    dcn = DeformConv2d(8, 4, 3, padding=1)
    x = torch.randn(1, 8, 16, 16)
    offset = torch.zeros(1, 18, 16, 16)
    # mmcv's kernel is invisible to FlopCounterMode: the hook adds it once.
    assert count_flops(lambda: dcn(x, offset), dcn) == 2 * 8 * 4 * 9 * 16 * 16
    # the hook is removed afterwards
    assert count_flops(lambda: None, dcn) == 0


def test_count_params():
    assert count_params(nn.Linear(3, 4)) == 3 * 4 + 4


def test_mfu_formula():
    # 3 passes * 10 GFLOP * batch 2 / 0.5 s = 120 GFLOP/s of a 1200 peak
    assert mfu(10e9, 2, 0.5, 1200e9, passes=3) == pytest.approx(0.1)
    assert mfu(10e9, 1, 0.01, 1e12) == pytest.approx(1.0)
    assert mfu(10e9, 1, 0.01, None) is None
    with pytest.raises(ValueError, match='positive seconds'):
        mfu(1.0, 1, 0.0, 1e12)


@pytest.mark.parametrize('name, precision, tflops, label', [
    ('NVIDIA H100 80GB HBM3', 'bf16', 989.4, 'H100 SXM'),
    ('NVIDIA H100 80GB HBM3', 'fp32', 494.7, 'TF32'),
    ('NVIDIA H100 PCIe', 'bf16', 756.5, 'H100 PCIe'),
    ('NVIDIA H200', 'fp16', 989.4, 'H200 SXM'),
    ('NVIDIA A100-SXM4-80GB', 'bf16', 312.0, 'A100'),
])
def test_peak_flops_table(name, precision, tflops, label):
    peak, note = peak_flops(name, precision)
    assert peak == pytest.approx(tflops * 1e12)
    assert label in note


def test_peak_flops_fp32_without_tf32_and_unknown_device():
    assert peak_flops(
        'NVIDIA A100 80GB PCIe', 'fp32',
        tf32=False)[0] == pytest.approx(19.5e12)
    peak, note = peak_flops('cpu', 'fp32')
    assert peak is None and "device 'cpu'" in note
