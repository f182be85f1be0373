"""The profile summary counts exactly what a call does."""
import torch

from panoptic_zoo.benchmark.trace import profile_calls


def test_counts_syncing_ops_per_call():
    x = torch.arange(10.)

    def fn():
        for _ in range(3):
            x.sum().item()  # one _local_scalar_dense each
        (x > 4).nonzero()
        torch.randperm(5)

    summary = profile_calls(fn, calls=2, device='cpu')
    assert summary['item_calls'] == 3
    assert summary['nonzero_calls'] == 1
    assert summary['randperm_calls'] == 1
    assert summary['kernel_launches'] == 0  # no CUDA on the CPU path
    assert summary['wall_ms'] > 0
    assert 'gpu_busy_ms' not in summary
