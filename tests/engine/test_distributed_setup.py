"""Distributed settings and launch scripts, without starting a job: the
config ``configure_distributed`` fills, the Slurm translation, and the
command lines the scripts build (through stand-in ``python`` / ``srun``)."""
import os
import stat
import subprocess

import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from panoptic_zoo.engine.distributed import (configure_distributed,
                                             seed_per_rank)
from panoptic_zoo.testing import REPO_ROOT

LAUNCH_VARS = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
               'MASTER_PORT', 'SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID',
               'SLURM_NODELIST', 'NNODES', 'NODE_RANK', 'PORT')


def _cfg(**kwargs):
    loader = dict(sampler=dict(type='DefaultSampler', shuffle=True))
    return Config(
        dict(
            train_dataloader=loader,
            val_dataloader=dict(
                sampler=dict(type='DefaultSampler', shuffle=False)),
            env_cfg=dict(dist_cfg=dict(backend='nccl')),
            **kwargs))


def _stand_in(path, name):
    """An executable that prints its arguments, one per line."""
    path.mkdir(exist_ok=True)
    exe = path / name
    exe.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(exe)


@pytest.fixture
def clean_env(monkeypatch):
    for var in LAUNCH_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_single_process_config_is_untouched(clean_env):
    cfg = _cfg(launcher='none')
    before = cfg.to_dict()
    configure_distributed(cfg)
    assert cfg.to_dict() == before


def test_missing_launcher_environment_is_named(clean_env):
    with pytest.raises(RuntimeError) as err:
        configure_distributed(_cfg(launcher='pytorch'))
    message = str(err.value)
    for expected in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'torchrun',
                     'tools/dist_train.sh', '--launcher none'):
        assert expected in message
    with pytest.raises(RuntimeError, match='SLURM_PROCID.*srun'):
        configure_distributed(_cfg(launcher='slurm'))


def test_rank_seeds_and_shared_sampler_seeds():
    cfg = _cfg(randomness=dict(seed=7))
    seed_per_rank(cfg)
    assert cfg.randomness == dict(seed=7, diff_rank_seed=True)
    assert cfg.train_dataloader.sampler.seed == 7
    assert cfg.val_dataloader.sampler.seed == 7
    # No seed: MMEngine draws one and shares it; samplers draw theirs.
    cfg = _cfg()
    seed_per_rank(cfg)
    assert cfg.randomness == dict(seed=None, diff_rank_seed=True)
    assert 'seed' not in cfg.train_dataloader.sampler
    # A config's own choice stays.
    cfg = _cfg(randomness=dict(seed=3, diff_rank_seed=False))
    seed_per_rank(cfg)
    assert cfg.randomness == dict(seed=3, diff_rank_seed=False)
    assert 'seed' not in cfg.train_dataloader.sampler


def test_slurm_on_cpu_opens_gloo_group(clean_env, tmp_path):
    """Slurm's variables become torch's; the master is the first host that
    ``scontrol show hostnames`` lists (a stand-in here)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    scontrol = bin_dir / 'scontrol'
    scontrol.write_text('#!/bin/sh\n[ "$3" = "node[7-8]" ] && '
                        'printf "127.0.0.1\\nnode8\\n"\n')
    scontrol.chmod(0o755)
    clean_env.setenv('PATH', f'{bin_dir}{os.pathsep}{os.environ["PATH"]}')
    clean_env.setenv('SLURM_PROCID', '0')
    clean_env.setenv('SLURM_NTASKS', '1')
    clean_env.setenv('SLURM_LOCALID', '0')
    clean_env.setenv('SLURM_NODELIST', 'node[7-8]')
    clean_env.setenv('MASTER_PORT', str(29400 + os.getpid() % 500))
    clean_env.setattr(torch.cuda, 'is_available', lambda: False)  # CPU path
    cfg = _cfg(launcher='slurm', find_unused_parameters=True)
    assert not torch_dist.is_initialized()
    try:
        configure_distributed(cfg)
        assert torch_dist.get_backend() == 'gloo'
        assert torch_dist.get_world_size() == 1
    finally:
        if torch_dist.is_initialized():
            torch_dist.destroy_process_group()
    assert (os.environ['MASTER_ADDR'], os.environ['RANK'],
            os.environ['WORLD_SIZE'],
            os.environ['LOCAL_RANK']) == ('127.0.0.1', '0', '1', '0')
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=True,
        device_ids=None)


def test_dist_scripts_build_torchrun_commands(tmp_path):
    python = _stand_in(tmp_path / 'bin', 'python')
    env = {k: v for k, v in os.environ.items() if k not in LAUNCH_VARS}
    env.update(
        PYTHON=python,
        NNODES='2',
        NODE_RANK='1',
        MASTER_ADDR='10.1.1.1',
        PORT='29555')
    tools = REPO_ROOT / 'tools'
    out = subprocess.run(
        [str(tools / 'dist_train.sh'), 'cfg.py', '4', '--amp'],
        env=env,
        capture_output=True,
        text=True,
        check=True)
    assert out.stdout.split('\n')[:-1] == [
        '-m', 'torch.distributed.run', '--nnodes=2', '--node-rank=1',
        '--master-addr=10.1.1.1', '--master-port=29555', '--nproc-per-node=4',
        f'{tools}/train.py', 'cfg.py', '--amp', '--launcher', 'pytorch'
    ]
    env.update(MASTER_PORT='29666')  # wins over mmdet's PORT
    out = subprocess.run([str(tools / 'dist_test.sh'), 'cfg.py', 'w.pth', '2'],
                         env=env,
                         capture_output=True,
                         text=True,
                         check=True)
    assert '--master-port=29666' in out.stdout.split('\n')
    assert out.stdout.split('\n')[-6:-1] == [
        f'{tools}/test.py', 'cfg.py', 'w.pth', '--launcher', 'pytorch'
    ]
    bad = subprocess.run([str(tools / 'dist_test.sh'), 'cfg.py', 'w.pth'],
                         env=env,
                         capture_output=True,
                         text=True)
    assert bad.returncode == 2 and 'usage:' in bad.stderr


def test_slurm_script_builds_srun_command(tmp_path):
    bin_dir = tmp_path / 'bin'
    _stand_in(bin_dir, 'srun')
    env = dict(
        os.environ,
        PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
        GPUS='16',
        PYTHON='python3',
        SRUN_ARGS='--qos=high --exclusive')
    tools = REPO_ROOT / 'tools'
    out = subprocess.run([
        str(tools / 'slurm_train.sh'), 'gpu', 'pfpn', 'cfg.py', 'work',
        '--resume'
    ],
                         env=env,
                         capture_output=True,
                         text=True,
                         check=True)
    assert out.stdout.split('\n')[:-1] == [
        '-p', 'gpu', '--job-name=pfpn', '--gres=gpu:8', '--ntasks=16',
        '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1',
        '--qos=high', '--exclusive', 'python3', '-u', f'{tools}/train.py',
        'cfg.py', '--work-dir=work', '--launcher', 'slurm', '--resume'
    ]
