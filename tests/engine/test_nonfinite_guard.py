"""The non-finite guard: refused steps, skips, the stop, no poisoned file."""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner

from panoptic_zoo.engine.nonfinite_guard_hook import (NonFiniteError,
                                                      NonFiniteGuardHook,
                                                      total_grad_norm)
from panoptic_zoo.testing import tiny_synthetic_config


class _FakeRunner:
    """What the hook reads: the optimizer wrapper and the iteration."""

    def __init__(self):
        self.model = torch.nn.Linear(3, 2)
        self.optim_wrapper = OptimWrapper(
            torch.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9))
        self.iter = 4


def _step(runner, grad_value):
    for p in runner.model.parameters():
        p.grad = torch.full_like(p, grad_value)
    runner.optim_wrapper.step()


def test_total_grad_norm_matches_clip_grad_norm():
    params = [torch.nn.Parameter(torch.randn(5, 4)) for _ in range(3)]
    for p in params:
        p.grad = torch.randn_like(p)
    expected = torch.nn.utils.clip_grad_norm_(params, max_norm=1e9)
    assert torch.allclose(total_grad_norm(params), expected)


def test_nonfinite_gradients_are_not_applied_then_stop():
    runner = _FakeRunner()
    hook = NonFiniteGuardHook(max_skips=1)
    hook.before_train(runner)
    _step(runner, 1.0)  # a good step moves the weights
    good = [p.detach().clone() for p in runner.model.parameters()]
    momentum = [
        s['momentum_buffer'].clone()
        for s in runner.optim_wrapper.optimizer.state.values()
    ]
    hook.after_train_iter(runner, 0, outputs={'loss': torch.tensor(1.0)})

    _step(runner, float('inf'))
    for p, before in zip(runner.model.parameters(), good):
        assert torch.equal(p.detach(), before)  # weights untouched
    for s, before in zip(runner.optim_wrapper.optimizer.state.values(),
                         momentum):
        assert torch.equal(s['momentum_buffer'], before)  # and momentum
    # within max_skips: a warning, training goes on
    hook.after_train_iter(runner, 0, outputs={'loss': torch.tensor(2.0)})
    assert hook.skipped == 1

    _step(runner, float('nan'))
    with pytest.raises(NonFiniteError) as error:
        hook.after_train_iter(
            runner,
            0,
            outputs={
                'loss': torch.tensor(float('nan')),
                'loss_cls': torch.tensor(float('nan')),
                'loss_bbox': torch.tensor(0.3),
                'acc': torch.tensor(float('nan'))  # not a loss: ignored
            })
    message = str(error.value)
    assert 'iteration 5' in message
    assert 'loss_cls=nan' in message and 'grad_norm=nan' in message
    assert 'loss_bbox' not in message and 'acc' not in message


def test_overflowing_norm_is_caught_before_gradient_clipping():
    """Huge finite gradients: the norm overflows to inf, and clipping would
    scale them to zero and still let momentum and weight decay move the
    weights. The step is refused instead."""
    runner = _FakeRunner()
    runner.optim_wrapper = OptimWrapper(
        torch.optim.SGD(runner.model.parameters(), lr=0.1, momentum=0.9,
                        weight_decay=0.1),
        clip_grad=dict(max_norm=10))
    hook = NonFiniteGuardHook()
    hook.before_train(runner)
    before = [p.detach().clone() for p in runner.model.parameters()]
    _step(runner, 1e30)
    for p, old in zip(runner.model.parameters(), before):
        assert torch.equal(p.detach(), old)
    with pytest.raises(NonFiniteError, match=r'grad_norm=inf'):
        hook.after_train_iter(runner, 0, outputs={'loss': torch.tensor(9.)})


def test_nonfinite_loss_alone_stops():
    runner = _FakeRunner()
    hook = NonFiniteGuardHook()
    hook.before_train(runner)
    with pytest.raises(NonFiniteError, match=r'iteration 5: loss_mask=inf'):
        hook.after_train_iter(
            runner, 0, outputs={'loss_mask': torch.tensor(float('inf'))})


def test_bad_max_skips_is_rejected():
    with pytest.raises(ValueError, match='max_skips'):
        NonFiniteGuardHook(max_skips=-1)


@pytest.mark.slow
def test_diverging_run_stops_without_poisoned_checkpoint(
        synthetic_root, tmp_path):
    cfg = tiny_synthetic_config(synthetic_root, str(tmp_path), max_iters=12)
    cfg.optim_wrapper.optimizer.lr = 1e6
    cfg.default_hooks.checkpoint.interval = 1
    cfg.randomness = dict(seed=0)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(NonFiniteError) as error:
        runner.train()
    message = str(error.value)
    stopped = runner.iter + 1
    assert f'iteration {stopped}' in message and stopped < 12
    assert 'grad_norm=' in message
    # The weights in memory are the last good step's, as is every file.
    assert all(
        torch.isfinite(v).all() for v in runner.model.state_dict().values()
        if v.is_floating_point())
    files = sorted(glob.glob(osp.join(tmp_path, 'iter_*.pth')))
    assert len(files) == stopped - 1
    for path in files:
        state = torch.load(path, weights_only=True)['state_dict']
        assert all(
            math.isfinite(v.abs().max().item()) for v in state.values()
            if v.is_floating_point()), path
    assert not osp.exists(osp.join(tmp_path, f'iter_{stopped}.pth'))
