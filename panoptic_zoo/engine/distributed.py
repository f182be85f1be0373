"""Distributed settings that follow the device: NCCL on GPUs, gloo on CPUs.

MMEngine's runner assumes CUDA for multi-process runs: ``init_dist`` calls
``torch.cuda.set_device`` (which fails without an NVIDIA driver) and the
default DDP wrapper passes ``device_ids=[LOCAL_RANK]``, which DDP rejects for
a CPU module. :func:`configure_distributed` fills the config so the same
command runs on both: on GPUs it leaves MMEngine's defaults (NCCL, one device
per process); on CPUs it opens a gloo process group itself (the runner then
skips ``init_dist``) and wraps the model without ``device_ids``.

It also chooses the seeding per rank: see :func:`seed_per_rank`.
"""
import datetime
import os
import subprocess
from typing import Dict

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, ConfigDict

# The variables each launcher leaves for its processes.
_LAUNCHER_ENV = {
    'pytorch': ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'),
    'slurm': ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'),
    'mpi': ('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE',
            'OMPI_COMM_WORLD_LOCAL_RANK', 'MASTER_ADDR'),
}
_HOW = {
    'pytorch':
    'start it with torchrun (tools/dist_train.sh CONFIG NUM_GPUS, '
    'or torchrun --nproc-per-node N tools/train.py CONFIG --launcher '
    'pytorch)',
    'slurm':
    'start it with srun (tools/slurm_train.sh)',
    'mpi':
    'start it with mpirun and set MASTER_ADDR',
}


def configure_distributed(cfg: Config) -> None:
    """Make ``cfg``'s multi-process settings fit this machine.

    Does nothing for ``cfg.launcher == 'none'``. Otherwise checks that the
    launcher's environment is there, sets the seeding per rank and, without
    CUDA, starts the gloo process group and sets ``model_wrapper_cfg``.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none':
        return
    missing = [k for k in _LAUNCHER_ENV[launcher] if k not in os.environ]
    if missing and not torch_dist.is_initialized():
        raise RuntimeError(
            f'--launcher {launcher}: the environment lacks '
            f'{", ".join(missing)}, which the launcher sets; '
            f'{_HOW[launcher]}, or use --launcher none for one process')
    seed_per_rank(cfg)
    if torch.cuda.is_available():
        return  # NCCL and device_ids=[LOCAL_RANK]: MMEngine's defaults
    env_cfg = cfg.setdefault('env_cfg', ConfigDict())
    dist_cfg = env_cfg.setdefault('dist_cfg', ConfigDict())
    if dist_cfg.get('backend', 'nccl') == 'nccl':  # NCCL needs CUDA
        dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        init_cpu_process_group(launcher, dict(dist_cfg))
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None  # a CPU module: DDP takes no device ids
    cfg.model_wrapper_cfg = wrapper


def seed_per_rank(cfg: Config) -> None:
    """Seed rank ``r`` with ``seed + r``; keep data order seeds shared.

    We default ``randomness.diff_rank_seed`` to True: with the same seed on
    every rank, each rank draws the same random stream in the main process
    (flips, RPN and RoI sampling), so the ranks' random choices repeat each
    other at every step. The model still starts identical everywhere, since
    the runner broadcasts rank 0's weights after ``init_weights`` and DDP
    broadcasts them again when it wraps the model.

    MMEngine then passes no seed to the samplers, which draw one at random:
    the data order would change from run to run. So when the config fixes
    ``randomness.seed``, each dataloader's sampler gets that seed
    explicitly (the same on every rank, as sharding needs), and a run is
    reproducible for the same seed and number of processes. A config that
    sets ``diff_rank_seed`` itself is left alone.
    """
    randomness = dict(cfg.get('randomness') or {})
    randomness.setdefault('seed', None)
    randomness.setdefault('diff_rank_seed', True)
    cfg.randomness = randomness
    if not randomness['diff_rank_seed'] or randomness['seed'] is None:
        return
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        sampler = loader.get('sampler') if loader else None
        if isinstance(sampler, dict):
            sampler.setdefault('seed', randomness['seed'])


def init_cpu_process_group(launcher: str, dist_cfg: Dict) -> None:
    """``init_process_group`` from the launcher's environment, without the
    ``torch.cuda.set_device`` of MMEngine's ``init_dist``.

    Same environment as MMEngine's: torchrun's variables as they are;
    Slurm's and Open MPI's translated to ``RANK``, ``WORLD_SIZE``,
    ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` (default 29500).
    ``dist_cfg``'s other keys go to ``init_process_group``, ``timeout`` in
    seconds.
    """
    env = os.environ
    if launcher == 'slurm':
        env.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in env:
            nodes = subprocess.run(
                ['scontrol', 'show', 'hostnames', env['SLURM_NODELIST']],
                capture_output=True,
                text=True,
                check=True).stdout.split()
            env['MASTER_ADDR'] = nodes[0]
        env['RANK'], env['WORLD_SIZE'] = (env['SLURM_PROCID'],
                                          env['SLURM_NTASKS'])
        env['LOCAL_RANK'] = env.get('SLURM_LOCALID', '0')
    elif launcher == 'mpi':
        env.setdefault('MASTER_PORT', '29500')
        env['RANK'] = env['OMPI_COMM_WORLD_RANK']
        env['WORLD_SIZE'] = env['OMPI_COMM_WORLD_SIZE']
        env['LOCAL_RANK'] = env['OMPI_COMM_WORLD_LOCAL_RANK']
    kwargs = {
        k: v
        for k, v in dist_cfg.items() if k not in ('backend', 'init_backend')
    }
    if kwargs.get('timeout') is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
    torch_dist.init_process_group(backend=dist_cfg['backend'], **kwargs)
