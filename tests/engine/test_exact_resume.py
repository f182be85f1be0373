"""A run stopped at iteration k and resumed ends bit-identical to one that
was never stopped: losses, weights, optimizer state, metrics."""
import os

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from panoptic_zoo.engine import atomic_checkpoint_hook
from panoptic_zoo.engine.resume_launch import apply_resume
from panoptic_zoo.testing import tiny_synthetic_config

pytestmark = pytest.mark.slow

MAX_ITERS = 4


class _Record(Hook):
    """Every logged loss term per iteration, and the end state."""
    priority = 'LOWEST'

    def __init__(self):
        self.losses, self.metrics = {}, None

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.losses[runner.iter + 1] = {
            k: v.item()
            for k, v in outputs.items()
        }

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = metrics

    def after_train(self, runner):
        self.state = {
            k: v.clone()
            for k, v in runner.model.state_dict().items()
        }
        self.optim = runner.optim_wrapper.optimizer.state_dict()


def _cfg(data_root, work_dir, num_workers=0, validate=True):
    cfg = tiny_synthetic_config(data_root, str(work_dir), MAX_ITERS)
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.default_hooks.checkpoint.interval = 1
    cfg.train_dataloader.num_workers = num_workers
    for split in ('train', 'val'):  # the data's own size: fast steps
        for step in cfg[f'{split}_dataloader'].dataset.pipeline:
            if step.type == 'Resize':
                step.scale = (128, 128)
    if validate:
        # A validation between the save at 2 and iteration 3 must not
        # shift the random numbers training draws next.
        cfg.train_cfg.val_interval = 2
        cfg.val_dataloader.dataset.indices = 2
    else:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    return cfg


def _train(cfg):
    record = _Record()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(record)
    runner.train()
    return record


def _assert_same_end(resumed, full, first_iter):
    assert sorted(resumed.losses) == list(range(first_iter, MAX_ITERS + 1))
    for it in range(first_iter, MAX_ITERS + 1):
        assert resumed.losses[it] == full.losses[it], it
    assert resumed.state.keys() == full.state.keys()
    for key, value in full.state.items():
        assert torch.equal(resumed.state[key], value), key
    assert full.optim['state'].keys() == resumed.optim['state'].keys()
    for index, state in full.optim['state'].items():
        for name, value in state.items():
            assert torch.equal(resumed.optim['state'][index][name],
                               value), (index, name)
    assert resumed.metrics == full.metrics


@pytest.fixture(scope='module')
def uninterrupted(synthetic_root, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('full')
    return _train(_cfg(synthetic_root, work_dir)), work_dir


def test_resume_after_a_save_and_a_validation_is_exact(
        uninterrupted, synthetic_root, tmp_path):
    full, full_dir = uninterrupted
    assert sorted(full.losses) == list(range(1, MAX_ITERS + 1))
    # The runs are not trivially equal: the loss moves every iteration.
    assert len({full.losses[i]['loss'] for i in full.losses}) == MAX_ITERS
    assert 'coco_panoptic/PQ' in full.metrics
    cfg = _cfg(synthetic_root, tmp_path / 'from2')
    apply_resume(cfg, str(full_dir / 'iter_2.pth'))
    _assert_same_end(_train(cfg), full, first_iter=3)


def test_kill_during_a_save_resumes_exactly(uninterrupted, synthetic_root,
                                            tmp_path, monkeypatch):
    """The writer dies between writing iter_2 and renaming it."""
    full, _ = uninterrupted
    work_dir = tmp_path / 'killed'
    commit = atomic_checkpoint_hook.commit

    class Killed(BaseException):
        pass

    def commit_or_die(tmp, final):
        if final.endswith('iter_2.pth'):
            raise Killed
        commit(tmp, final)

    monkeypatch.setattr(atomic_checkpoint_hook, 'commit', commit_or_die)
    with pytest.raises(Killed):
        _train(_cfg(synthetic_root, work_dir))
    monkeypatch.undo()
    left = sorted(os.listdir(work_dir))
    assert 'iter_1.pth' in left and 'iter_2.pth' not in left
    assert any(name.startswith('.iter_2.pth.tmp-') for name in left)
    assert (work_dir / 'last_checkpoint').read_text() == 'iter_1.pth'

    cfg = _cfg(synthetic_root, work_dir)
    apply_resume(cfg, 'auto')
    assert cfg.load_from == str(work_dir / 'iter_1.pth')
    assert not any('.tmp-' in name for name in os.listdir(work_dir))
    _assert_same_end(_train(cfg), full, first_iter=2)


def test_resume_with_loader_workers_is_exact(synthetic_root, tmp_path):
    full = _train(
        _cfg(synthetic_root, tmp_path / 'full', 1, validate=False))
    cfg = _cfg(synthetic_root, tmp_path / 'resumed', 1, validate=False)
    apply_resume(cfg, str(tmp_path / 'full' / 'iter_3.pth'))
    _assert_same_end(_train(cfg), full, first_iter=4)


def test_checkpoint_loads_with_plain_weights_only(uninterrupted):
    _, work_dir = uninterrupted
    # The allow-list is installed in this process; a fresh interpreter
    # without our package is the real check.
    import subprocess
    import sys
    code = ('import torch\n'
            f'c = torch.load({str(work_dir / "iter_4.pth")!r}, '
            'weights_only=True)\n'
            'print(c["meta"]["iter"], sorted(c["rng_state"]))\n')
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         cwd='/')
    assert out.returncode == 0, out.stderr
    assert out.stdout.split('\n')[0] == "4 ['numpy', 'python', 'torch']"
