"""Atomic writes, integrity checks and the choice of the resume file."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from panoptic_zoo.engine.checkpoint_files import (
    ResumeError, checked_checkpoint, damage, latest_intact_checkpoint,
    write_text_atomic)
from panoptic_zoo.engine.plain_checkpoint import from_plain, to_plain
from panoptic_zoo.engine.rng_state import (capture_rng_state,
                                           restore_rng_state)


def _save(path, value=1.0):
    torch.save({'state_dict': {'w': torch.full((64, 64), value)}}, path)
    return str(path)


def _truncate(path, keep=0.5):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def test_damage_finds_truncation_and_flipped_bytes(tmp_path):
    good = _save(tmp_path / 'good.pth')
    assert damage(good) is None
    cut = _save(tmp_path / 'cut.pth')
    _truncate(cut)
    assert 'truncated' in damage(cut)
    flipped = _save(tmp_path / 'flipped.pth')
    data = bytearray(open(flipped, 'rb').read())
    # A byte of the tensor record, far from the archive's directory.
    data[len(data) // 2] ^= 0xFF
    open(flipped, 'wb').write(bytes(data))
    assert 'CRC' in damage(flipped)
    (tmp_path / 'text.pth').write_text('not a checkpoint')
    assert damage(str(tmp_path / 'text.pth')) is not None


def test_resume_falls_back_to_newest_intact(tmp_path):
    _save(tmp_path / 'iter_2.pth')
    _save(tmp_path / 'iter_4.pth')
    _truncate(_save(tmp_path / 'iter_6.pth'))
    write_text_atomic(str(tmp_path / 'last_checkpoint'), 'iter_6.pth')
    (tmp_path / '.iter_8.pth.tmp-123').write_bytes(b'partial')
    chosen = latest_intact_checkpoint(str(tmp_path))
    assert chosen == str(tmp_path / 'iter_4.pth')
    # The writer's leftover is gone; the damaged file is kept for a look.
    assert not (tmp_path / '.iter_8.pth.tmp-123').exists()
    assert (tmp_path / 'iter_6.pth').exists()


def test_last_checkpoint_is_relative_to_the_work_dir(tmp_path):
    _save(tmp_path / 'iter_2.pth', 2.0)
    _save(tmp_path / 'iter_4.pth', 4.0)
    # last_checkpoint may name an older file than the newest on disk
    write_text_atomic(str(tmp_path / 'last_checkpoint'), 'iter_2.pth')
    assert latest_intact_checkpoint(str(tmp_path)) == str(tmp_path /
                                                          'iter_2.pth')


def test_copied_work_dir_uses_its_own_files(tmp_path):
    original, copy = tmp_path / 'run', tmp_path / 'copy'
    original.mkdir()
    copy.mkdir()
    _save(original / 'iter_2.pth', 1.0)
    _save(copy / 'iter_2.pth', 2.0)
    # MMEngine's own hook writes absolute paths
    write_text_atomic(str(copy / 'last_checkpoint'),
                      str(original / 'iter_2.pth'))
    assert latest_intact_checkpoint(str(copy)) == str(copy / 'iter_2.pth')


@pytest.mark.parametrize('setup', ['missing', 'empty', 'empty_record'])
def test_nothing_to_resume_is_an_error(tmp_path, setup):
    work_dir = tmp_path / 'work'
    if setup != 'missing':
        work_dir.mkdir()
    if setup == 'empty_record':
        (work_dir / 'last_checkpoint').write_text('')
    with pytest.raises(ResumeError) as error:
        latest_intact_checkpoint(str(work_dir))
    assert str(work_dir) in str(error.value)
    assert 'drop --resume to start a fresh run' in str(error.value)


def test_only_damaged_checkpoints_is_an_error(tmp_path):
    _truncate(_save(tmp_path / 'iter_2.pth'))
    with pytest.raises(ResumeError, match='no intact checkpoint.*iter_2'):
        latest_intact_checkpoint(str(tmp_path))


def test_explicit_resume_path_must_exist_and_be_intact(tmp_path):
    missing = str(tmp_path / 'iter_9.pth')
    with pytest.raises(ResumeError, match=f'{missing} does not exist'):
        checked_checkpoint(missing)
    cut = _save(tmp_path / 'iter_2.pth')
    _truncate(cut)
    with pytest.raises(ResumeError, match='is damaged'):
        checked_checkpoint(cut)
    good = _save(tmp_path / 'iter_4.pth')
    assert checked_checkpoint(good) == good


def test_write_text_atomic_replaces_whole_file(tmp_path):
    path = str(tmp_path / 'last_checkpoint')
    write_text_atomic(path, 'iter_2.pth')
    write_text_atomic(path, 'iter_4.pth')
    assert open(path).read() == 'iter_4.pth'
    assert os.listdir(tmp_path) == ['last_checkpoint']


def test_message_hub_round_trips_through_plain_values(tmp_path):
    buffer = HistoryBuffer([0.5, 0.25], [1, 2], max_length=10)
    state = dict(
        log_scalars={'train/loss': buffer},
        runtime_info={'ids': np.array([3, 4]), 'best': np.float64(0.5),
                      'names': np.array(['a', 'b'])})
    path = str(tmp_path / 'hub.pth')
    torch.save(to_plain(state), path)
    # No allow-list involved: torch's own safe unpickler.
    back = from_plain(torch.load(path, weights_only=True))
    restored = back['log_scalars']['train/loss']
    assert isinstance(restored, HistoryBuffer)
    np.testing.assert_array_equal(restored._log_history, [0.5, 0.25])
    np.testing.assert_array_equal(restored._count_history, [1, 2])
    assert restored.max_length == 10 and restored.mean() == 0.25
    assert back['runtime_info']['ids'].tolist() == [3, 4]
    assert back['runtime_info']['best'] == 0.5
    assert back['runtime_info']['names'].tolist() == ['a', 'b']


def test_rng_state_round_trip_repeats_draws(tmp_path):
    import random
    torch.manual_seed(1)
    np.random.seed(1)
    random.seed(1)
    np.random.randn()  # a cached Gaussian is part of numpy's state
    path = str(tmp_path / 'rng.pth')
    torch.save(capture_rng_state(), path)
    first = (torch.rand(3), np.random.randn(3), random.random())
    restore_rng_state(torch.load(path, weights_only=True))
    second = (torch.rand(3), np.random.randn(3), random.random())
    assert torch.equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == second[2]


def test_damage_of_a_missing_file(tmp_path):
    assert damage(osp.join(tmp_path, 'none.pth')) is not None


class _SavingRunner:
    """What CheckpointHook reads from a runner; saves a tiny file."""

    def __init__(self, work_dir, fail_at=None):
        from mmengine.logging import MessageHub, MMLogger
        self.work_dir, self.fail_at = str(work_dir), fail_at
        self.logger = MMLogger.get_current_instance()
        self.message_hub = MessageHub.get_instance(f'hook-test-{work_dir}')
        self.iter, self.epoch, self.max_iters = 0, 0, 100

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        path = osp.join(out_dir, filename)
        torch.save({'iter': self.iter + 1}, path)
        if self.fail_at == self.iter + 1:
            raise KeyboardInterrupt  # killed after writing, before renaming


def test_checkpoint_hook_keeps_old_files_until_the_new_one_is_in_place(
        tmp_path):
    from panoptic_zoo.engine import AtomicCheckpointHook
    runner = _SavingRunner(tmp_path, fail_at=4)
    hook = AtomicCheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=2)
    hook.before_train(runner)
    for runner.iter in range(3):
        hook.after_train_iter(runner, runner.iter)
    assert sorted(os.listdir(tmp_path)) == [
        'iter_2.pth', 'iter_3.pth', 'last_checkpoint'
    ]
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_3.pth'
    runner.iter = 3
    with pytest.raises(KeyboardInterrupt):
        hook.after_train_iter(runner, 3)
    # MMEngine's hook deletes iter_2 before saving iter_4: here both good
    # files survive the crash, next to the unrenamed temporary.
    left = sorted(os.listdir(tmp_path))
    assert left[1:] == ['iter_2.pth', 'iter_3.pth', 'last_checkpoint']
    assert left[0].startswith('.iter_4.pth.tmp-')
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_3.pth'
    assert latest_intact_checkpoint(str(tmp_path)) == str(tmp_path /
                                                          'iter_3.pth')
