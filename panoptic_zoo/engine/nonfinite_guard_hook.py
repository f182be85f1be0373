"""Stop (or skip) a training step whose loss or gradients are not finite.

A diverging run otherwise trains on with NaN weights, saves them and
reports a metric computed from garbage. The hook

* wraps the optimizer wrapper's ``step``: if the total gradient norm (before
  clipping) is not finite, the update is not applied, so the weights and the
  optimizer state stay those of the last good step. (Under AMP the loss
  scaler already skips such steps and lowers its scale; it calls the
  optimizer's ``step`` only for finite gradients, which is where the check
  goes then.)
* after each iteration, looks at every logged loss term and at whether the
  step was refused; then either raises :class:`NonFiniteError` naming the
  iteration and the terms, or, within ``max_skips``, warns and goes on;
* refuses to save a checkpoint holding a non-finite weight, whatever the
  reason, so no poisoned file lands next to the good ones.
"""
import logging
import functools
import math
from typing import List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper

from panoptic_zoo.registry import HOOKS


class NonFiniteError(RuntimeError):
    """Training met a non-finite loss, gradient norm or weight."""


def total_grad_norm(params) -> torch.Tensor:
    """The L2 norm of all gradients together (as ``clip_grad_norm_``)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    norms = torch._foreach_norm(grads)
    return torch.linalg.vector_norm(
        torch.stack([n.to(norms[0].device) for n in norms]))


def nonfinite_keys(tensors: dict) -> List[str]:
    """Keys of the floating-point tensors holding a NaN or an infinity."""
    return [
        key for key, value in tensors.items()
        if torch.is_tensor(value) and value.is_floating_point()
        and not bool(torch.isfinite(value).all())
    ]


@HOOKS.register_module()
class NonFiniteGuardHook(Hook):
    """Guard against non-finite losses and gradient norms.

    Args:
        max_skips (int): how many bad steps to skip (not applied, with a
            warning) before stopping. 0 stops at the first one.
        check_grad_norm (bool): compute the gradient norm before each
            optimizer step (one pass over the gradients) and refuse
            non-finite updates. Without it only the loss is checked, after
            the step was applied.
    """

    # Before the logger and the checkpoint hook see the iteration.
    priority = 'VERY_HIGH'

    def __init__(self, max_skips: int = 0, check_grad_norm: bool = True):
        if not isinstance(max_skips, int) or max_skips < 0:
            raise ValueError(
                f'NonFiniteGuardHook: max_skips must be an int >= 0, got '
                f'{max_skips!r}')
        self.max_skips = max_skips
        self.check_grad_norm = check_grad_norm
        self.skipped = 0
        self._refused_norm: Optional[float] = None

    def before_train(self, runner) -> None:
        if not self.check_grad_norm:
            return
        wrappers = getattr(runner.optim_wrapper, 'values', None)
        for wrapper in (wrappers() if wrappers else [runner.optim_wrapper]):
            if isinstance(wrapper, AmpOptimWrapper):
                # Gradients are scaled until the scaler's step: guard the
                # optimizer, which the scaler calls for finite ones only.
                self._guard(wrapper.optimizer, wrapper.optimizer)
            else:
                # Before gradient clipping, which turns an infinite norm
                # into zero gradients and a step that still moves weights.
                self._guard(wrapper, wrapper.optimizer)

    def _guard(self, owner, optimizer) -> None:
        """Replace ``owner.step`` by one that checks ``optimizer``'s
        gradients first."""
        step = owner.step
        if getattr(step, '_nonfinite_guard', False):
            return

        @functools.wraps(step)
        def guarded_step(*args, **kwargs):
            params = [p for group in optimizer.param_groups
                      for p in group['params']]
            norm = float(total_grad_norm(params))
            if not math.isfinite(norm):
                self._refused_norm = norm
                return None  # weights and optimizer state stay as they were
            return step(*args, **kwargs)

        guarded_step._nonfinite_guard = True
        owner.step = guarded_step

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        bad = []
        for key, value in (outputs or {}).items():
            if 'loss' not in key:
                continue  # accuracies and other logged metrics
            number = float(value.detach().float().sum()) if torch.is_tensor(
                value) else float(value)
            if not math.isfinite(number):
                bad.append(f'{key}={number}')
        if self._refused_norm is not None:
            bad.append(f'grad_norm={self._refused_norm} (step not applied)')
            self._refused_norm = None
        if not bad:
            return
        iteration = runner.iter + 1  # as the log counts
        what = ', '.join(bad)
        if self.skipped < self.max_skips:
            self.skipped += 1
            print_log(
                f'non-finite values at iteration {iteration}: {what}; '
                f'step skipped ({self.skipped} of max_skips='
                f'{self.max_skips})',
                logger='current',
                level=logging.WARNING)
            return
        raise NonFiniteError(
            f'training stopped at iteration {iteration}: {what}. The '
            'checkpoints on disk are from before this step. Lower the '
            'learning rate, add optim_wrapper.clip_grad, or set '
            'default_hooks.nonfinite_guard.max_skips to skip a few bad '
            'steps.')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        bad = nonfinite_keys(checkpoint.get('state_dict', {}))
        if bad:
            raise NonFiniteError(
                f'refusing to save a checkpoint at iteration {runner.iter + 1}: '
                f'{len(bad)} weight tensors are not finite (first: '
                f'{bad[0]})')
