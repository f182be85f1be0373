"""Distributed training and evaluation on CPU: 2 processes, gloo, torchrun.

Each test starts real processes (``torch.distributed.run``) as a user
would; ``dist_worker.py`` holds the work done inside them.
"""
import glob
import importlib.util
import json
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import pytest
import torch

from panoptic_zoo.cli import main
from panoptic_zoo.testing import REPO_ROOT, config_path

pytestmark = pytest.mark.slow

WORKER = osp.join(osp.dirname(__file__), 'dist_worker.py')
_spec = importlib.util.spec_from_file_location('dist_worker', WORKER)
dist_worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dist_worker)
CONTROL = dist_worker.CONTROL
PFPN = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'
README_MARK = '<!-- CPU check of the multi-process path -->'

# Zoo configs with a parameter that gets no gradient in a training step, and
# why. DDP with find_unused_parameters=False refuses them at the next step.
# (None so far: every _synthetic config is DDP-safe.)
UNUSED_PARAMETERS = {}


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _env(**extra):
    """This checkout first on the path; one thread per process (as
    torchrun's default), so every run computes the same floats."""
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO_ROOT),
        OMP_NUM_THREADS='1',
        PYTHON=sys.executable,
        MASTER_PORT=str(_free_port()))
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env.update(extra)
    return env


def _run(cmd, timeout=300, **kwargs):
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert out.returncode == 0, (f'{cmd} failed:\n'
                                 f'{out.stdout[-3000:]}\n{out.stderr[-6000:]}')
    return out


def _torchrun(nproc, *args, **kwargs):
    env = _env()
    return _run([
        sys.executable, '-m', 'torch.distributed.run',
        f'--nproc-per-node={nproc}', '--master-addr=127.0.0.1',
        f'--master-port={env["MASTER_PORT"]}', *args
    ],
                env=env,
                cwd=str(REPO_ROOT),
                **kwargs)


def _synthetic_configs():
    """Every zoo ``_synthetic`` config, relative to the configs folder."""
    root = osp.dirname(osp.dirname(config_path(PFPN)))
    return sorted(
        osp.relpath(p, root)
        for p in glob.glob(osp.join(root, '*', '*_synthetic.py')))


def _metrics_json(work_dir):
    """The PQ metrics a run logged, as the floats they were (MMEngine's
    JSON log: ``<run>/vis_data/<run>.json`` for training, ``<run>/<run>.json``
    for testing)."""
    paths = [
        p for p in glob.glob(osp.join(work_dir, '*', '*.json')) +
        glob.glob(osp.join(work_dir, '*', 'vis_data', '*.json'))
        if not p.endswith('scalars.json')
    ]
    assert len(paths) == 1, paths
    with open(paths[0]) as f:
        rows = [json.loads(line) for line in f]
    return {
        k: v
        for r in rows
        for k, v in r.items() if k.startswith('coco_panoptic/')
    }


@pytest.fixture(scope='module')
def readme_run(synthetic_root, tmp_path_factory):
    """The README's multi-process command, run as written from a directory
    laid out as the repository (``tools``, ``configs``, ``data/synthetic``)."""
    with open(REPO_ROOT / 'README.md') as f:
        readme = f.read()
    block = readme.split(README_MARK, 1)[1].split('```bash\n', 1)[1]
    command = block.split('\n```', 1)[0].strip()
    cwd = tmp_path_factory.mktemp('readme')
    for name in ('tools', 'configs'):
        os.symlink(REPO_ROOT / name, cwd / name)
    os.makedirs(cwd / 'data')
    os.symlink(synthetic_root, cwd / 'data' / 'synthetic')
    out = _run(['bash', '-c', command], env=_env(), cwd=str(cwd))
    work_dir = re.search(r'--work-dir (\S+)', command).group(1)
    iters = int(re.search(r'max_iters=(\d+)', command).group(1))
    return command, out, str(cwd / work_dir), iters


def test_readme_command_trains_on_two_processes(readme_run):
    command, out, work_dir, iters = readme_run
    assert command.startswith('tools/dist_train.sh ') and ' 2 ' in command
    # The environment block goes to the run's log file, not the console.
    log = ''.join(
        open(p).read() for p in glob.glob(osp.join(work_dir, '*', '*.log')))
    assert 'Distributed training: True' in log
    assert re.search(r'GPU number: 2\b', log), 'the runner saw one process'
    ckpt = torch.load(f'{work_dir}/iter_{iters}.pth', map_location='cpu')
    assert ckpt['meta']['iter'] == iters
    # The 2-process validation at the end: 20 steps already learn stuff.
    metrics = _metrics_json(work_dir)
    assert 0.0 < metrics['coco_panoptic/PQ_st'] <= 100.0


def test_two_process_evaluation_equals_one_process(readme_run, synthetic_root,
                                                   tmp_path):
    """Same checkpoint, 5 images (odd: the sampler pads rank 1 with image 0,
    which must count once): the same PQ to the last bit."""
    _, _, work_dir, iters = readme_run
    cfg = config_path(PFPN)
    args = [
        '--data-root', synthetic_root, '--cfg-options',
        'test_dataloader.dataset.indices=5', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False', 'custom_hooks=[]'
    ]
    ckpt = f'{work_dir}/iter_{iters}.pth'
    _run([
        str(REPO_ROOT / 'tools' / 'dist_test.sh'), cfg, ckpt, '2',
        '--work-dir',
        str(tmp_path / 'two'), *args
    ],
         env=_env())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each torchrun process: the same floats
    try:
        main(['test', cfg, ckpt, '--work-dir', str(tmp_path / 'one'), *args])
    finally:
        torch.set_num_threads(threads)
    two, one = (_metrics_json(str(tmp_path / d)) for d in ('two', 'one'))
    assert set(one) >= {
        'coco_panoptic/PQ', 'coco_panoptic/SQ', 'coco_panoptic/PQ_th',
        'coco_panoptic/PQ_st'
    }
    assert two == one  # exact float equality, every key
    assert one['coco_panoptic/PQ'] > 0, 'a trivial PQ proves nothing'


@pytest.fixture(scope='module')
def worker_run(synthetic_root, tmp_path_factory):
    """One torchrun of 2 processes: the gradient step, the control, then 2
    DDP steps of every zoo _synthetic config."""
    out_dir = str(tmp_path_factory.mktemp('worker'))
    configs = _synthetic_configs()
    _torchrun(
        2,
        WORKER,
        synthetic_root,
        out_dir,
        '--gradients',
        CONTROL,
        *configs,
        timeout=600)
    return out_dir, configs


def test_every_synthetic_config_trains_under_ddp(worker_run):
    """2 processes, 2 steps each, find_unused_parameters=False: a parameter
    without gradient in step 1 stops step 2 (DDP's reducer)."""
    out_dir, configs = worker_run
    assert len(configs) >= 17, configs
    for rank in (0, 1):
        with open(osp.join(out_dir, f'ddp_safety_rank{rank}.json')) as f:
            results = json.load(f)
        # The control: ResNet stage 4 computed but unused is caught, named.
        control = results.pop(CONTROL)
        assert control['steps'] == 1 and 'prior iteration' in control['error']
        assert control['unused'] and all(
            n.startswith('backbone.layer4.') for n in control['unused'])
        assert sorted(results) == configs
        for config, res in results.items():
            expected = UNUSED_PARAMETERS.get(config, [])
            assert res['unused'] == expected, (config, res)
            if expected:
                assert res['steps'] == 1 and 'prior iteration' in \
                    res['error'], (config, res)
            else:
                assert res['error'] is None and res['steps'] == 2, \
                    (config, res)


def test_two_process_gradients_equal_one_process(worker_run, synthetic_root,
                                                 tmp_path):
    """One step on training images 0 and 1: two processes with one image
    each average to the gradient of one process with both (see
    ``dist_worker.gradients`` for what is pinned)."""
    out_dir, _ = worker_run
    dist_worker.gradients(synthetic_root, str(tmp_path))  # one process
    one = torch.load(tmp_path / 'grads_world1_rank0.pt')
    ranks = [
        torch.load(osp.join(out_dir, f'grads_world2_rank{r}.pt'))
        for r in (0, 1)
    ]
    assert (one['world'], ranks[0]['world']) == (1, 2)
    assert sorted(one['img_ids']) == \
        sorted(ranks[0]['img_ids'] + ranks[1]['img_ids'])
    assert len(ranks[0]['img_ids']) == 1 and \
        ranks[0]['img_ids'] != ranks[1]['img_ids']
    grads = one['grads']
    assert len(grads) > 50 and set(grads) == set(ranks[0]['grads'])
    for name, grad in grads.items():
        # DDP leaves every rank with the same averaged gradient...
        assert torch.equal(ranks[0]['grads'][name], ranks[1]['grads'][name])
        # ...which is the one-process gradient, up to float rounding.
        torch.testing.assert_close(
            ranks[0]['grads'][name], grad, rtol=1e-4, atol=1e-6, msg=name)
    # The mean of the per-image losses is the two-image loss.
    for key, value in one['losses'].items():
        mean = (ranks[0]['losses'][key] + ranks[1]['losses'][key]) / 2
        assert mean == pytest.approx(value, rel=1e-5), key
