"""cProfile of steps: the tables name the code that runs."""
import pytest
import subprocess
import sys

from panoptic_zoo.benchmark.host_profile import profile_host
from panoptic_zoo.testing import REPO_ROOT

TINY = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


def _busy_function():
    return sum(i * i for i in range(20000))


def test_profile_host_names_the_functions_and_times_a_call():
    result = profile_host(_busy_function, calls=3, device='cpu', top=10)
    assert result['calls'] == 3 and result['s_per_call'] > 0
    for order in ('cumulative', 'tottime'):
        assert '_busy_function' in result[order]
    assert 'Ordered by: cumulative time' in result['cumulative']
    assert 'Ordered by: internal time' in result['tottime']


@pytest.mark.slow
def test_tool_profiles_a_config_on_cpu(tmp_path):
    out = subprocess.run(
        [sys.executable, 'tools/profile_host.py', TINY, '--device', 'cpu',
         '--input', '1x96x128', '--instances', '2', '--calls', '1',
         '--warmup', '1', '--top', '15', '--out-dir', str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'train:' in out.stdout and 'predict:' in out.stdout
    train = (tmp_path / 'train.txt').read_text()
    predict = (tmp_path / 'predict.txt').read_text()
    assert 'panoptic_segmentor.py' in train and '(loss)' in train
    assert '(predict)' in predict


def test_tool_rejects_amp_on_cpu(tmp_path):
    out = subprocess.run(
        [sys.executable, 'tools/profile_host.py', TINY, '--device', 'cpu',
         '--amp', '--out-dir', str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and '--amp' in out.stderr
