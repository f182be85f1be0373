"""A real trainer process, signalled: SIGKILL leaves no data-loader worker
behind; SIGTERM finishes the iteration, saves it and exits 143."""
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from panoptic_zoo.engine.checkpoint_files import damage
from panoptic_zoo.testing import REPO_ROOT, config_path

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith('linux'),
                       reason='/proc and PR_SET_PDEATHSIG are Linux-only')
]

CONFIG = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


def _start(work_dir, data_root, log):
    command = [
        sys.executable, '-m', 'panoptic_zoo.cli', 'train',
        config_path(CONFIG), '--work-dir',
        str(work_dir), '--data-root', data_root, '--cfg-options',
        'train_dataloader.num_workers=2', 'train_cfg.max_iters=1000',
        'default_hooks.logger.interval=1'
    ]
    return subprocess.Popen(command,
                            cwd=str(REPO_ROOT),
                            stdout=open(log, 'w'),
                            stderr=subprocess.STDOUT)


def _state(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()
    except OSError:
        return None


def _children(pid):
    """Live (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in filter(str.isdigit, os.listdir('/proc')):
        fields = _state(entry)
        if fields and int(fields[1]) == pid and fields[0] != 'Z':
            found.append(int(entry))
    return found


def _alive(pid):
    fields = _state(pid)
    return fields is not None and fields[0] != 'Z'


def _wait_for(condition, trainer, log, seconds=300):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if trainer.poll() is not None:
            pytest.fail(f'trainer exited early:\n{open(log).read()[-3000:]}')
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f'timed out:\n{open(log).read()[-3000:]}')


def _trained_iters(log):
    return [int(n) for n in re.findall(r'Iter\(train\) \[\s*(\d+)/',
                                       open(log).read())]


def test_workers_die_with_a_killed_trainer(synthetic_root, tmp_path):
    log = tmp_path / 'log.txt'
    trainer = _start(tmp_path / 'work', synthetic_root, log)
    try:
        _wait_for(lambda: _trained_iters(log), trainer, log)
        workers = _children(trainer.pid)
        assert len(workers) >= 2, 'no loader workers running'
        time.sleep(2)  # let them fill their result queues
    finally:
        trainer.send_signal(signal.SIGKILL)
        trainer.wait()
    # torch's own watchdog polls every 5 s, and a worker blocked on a full
    # result pipe never exits; the kernel's parent-death signal is at once.
    deadline = time.time() + 2
    while any(map(_alive, workers)) and time.time() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # do not leak them into the rest of the session
        os.kill(pid, signal.SIGKILL)
    assert not left, f'workers {left} outlived their trainer'


def test_sigterm_saves_the_iteration_and_exits_143(synthetic_root, tmp_path):
    log, work_dir = tmp_path / 'log.txt', tmp_path / 'work'
    trainer = _start(work_dir, synthetic_root, log)
    try:
        _wait_for(lambda: _trained_iters(log), trainer, log)
        workers = _children(trainer.pid)
        assert len(workers) >= 2, 'no loader workers running'
        trainer.send_signal(signal.SIGTERM)
        status = trainer.wait(timeout=120)
    finally:
        if trainer.poll() is None:
            trainer.kill()
            trainer.wait()
    output = open(log).read()
    assert status == 143, output[-3000:]
    step = max(_trained_iters(log))
    name = (work_dir / 'last_checkpoint').read_text()
    assert name == f'iter_{step}.pth', output[-3000:]
    assert damage(str(work_dir / name)) is None
    meta = torch.load(work_dir / name, weights_only=True)['meta']
    assert meta['iter'] == step
    assert f'SIGTERM received: stopped after step {step}' in output
    assert not any(map(_alive, workers))  # shut down with the trainer
