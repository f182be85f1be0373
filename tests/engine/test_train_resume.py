"""Short training on the built-in data: the loss falls; resume continues."""
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from mmengine.hooks import Hook
from mmengine.runner import Runner

from panoptic_zoo.testing import tiny_synthetic_config

pytestmark = pytest.mark.slow  # trains models or runs the benchmark


class _Record(Hook):
    """Remember losses and the weights the training loop starts from."""

    def __init__(self):
        self.losses, self.start_state, self.metrics = [], None, None

    def before_train(self, runner):
        self.start_state = {
            k: v.clone()
            for k, v in runner.model.state_dict().items()
        }

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.losses.append(outputs['loss'].item())

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = metrics


def _runner(cfg, record):
    runner = Runner.from_cfg(cfg)
    runner.register_hook(record)
    return runner


@pytest.fixture(scope='module')
def trained(synthetic_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('work'))
    cfg = tiny_synthetic_config(synthetic_root, work_dir, max_iters=40)
    cfg.train_dataloader.dataset.indices = 4  # fit a few images: must fall
    record = _Record()
    runner = _runner(cfg, record)
    runner.train()
    return runner, record, work_dir, synthetic_root


def test_loss_decreases(trained):
    _, record, _, _ = trained
    losses = np.array(record.losses)
    assert len(losses) == 40 and np.isfinite(losses).all()
    assert losses[-10:].mean() < 0.7 * losses[:5].mean(), losses


def test_evaluation_and_picture_after_training(trained):
    _, record, work_dir, _ = trained
    assert 0.0 <= record.metrics['coco_panoptic/PQ'] <= 100.0
    picture = np.asarray(Image.open(f'{work_dir}/vis/val_panoptic.png'))
    # header + one titled row of image | ground truth | prediction per val
    # image (6 by default), the legend on the right
    assert picture.shape[2] == 3
    assert picture.shape[0] > 6 * 128 and picture.shape[1] > 3 * (128 + 4)


def test_resume_carries_iteration_and_weights(trained):
    runner, _, work_dir, data_root = trained
    ckpt = f'{work_dir}/iter_40.pth'
    saved = torch.load(ckpt, map_location='cpu')  # weights_only=True
    cfg = tiny_synthetic_config(data_root, work_dir, max_iters=44)
    cfg.train_cfg.val_interval = 1000  # no evaluation in this run
    cfg.resume, cfg.load_from = True, ckpt
    record = _Record()
    resumed = _runner(cfg, record)
    resumed.train()
    assert saved['meta']['iter'] == 40
    assert len(record.losses) == 4 and resumed.iter == 44
    for key, value in saved['state_dict'].items():
        torch.testing.assert_close(record.start_state[key], value, msg=key)
    # The optimizer state (momentum) came back too.
    assert resumed.optim_wrapper.optimizer.state_dict()['state']


def test_plain_torch_load_reads_our_checkpoint_and_mmengines(trained):
    """Ours load with torch's safe unpickler alone; MMEngine's own
    (HistoryBuffer, numpy inside) need the allow-list our package installs.
    """
    _, _, work_dir, _ = trained
    code = ('import sys, torch\n'
            'from mmengine.logging import HistoryBuffer\n'
            f'ours = torch.load({work_dir + "/iter_40.pth"!r})\n'
            'print(ours["meta"]["iter"])\n'
            'torch.save({"hub": HistoryBuffer([1.0], [1])}, sys.argv[1])\n'
            'try:\n'
            '    torch.load(sys.argv[1])\n'
            'except Exception as e:\n'
            '    print(type(e).__name__)\n'
            'import panoptic_zoo.engine\n'
            'print(torch.load(sys.argv[1])["hub"].mean())\n')
    out = subprocess.run(
        [sys.executable, '-c', code, f'{work_dir}/mmengine_style.pth'],
        capture_output=True,
        text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.split() == ['40', 'UnpicklingError', '1.0']
