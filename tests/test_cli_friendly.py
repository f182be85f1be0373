"""The CLI's error messages (one line, no traceback), --version, a fast
--help, and a clean log when a short training is piped to a file."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

import panoptic_zoo
from panoptic_zoo.cli import main
from panoptic_zoo.engine.launch import load_config
from panoptic_zoo.engine.preflight import DataRootError, check_data_root
from panoptic_zoo.testing import config_path

CONFIG = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


def _error(argv):
    """``main(argv)``'s exit message; it must be a single line."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    message = str(info.value.code)
    assert '\n' not in message and 'Traceback' not in message
    return message


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(['--version'])
    assert capsys.readouterr().out.strip() == (
        f'panoptic-zoo {panoptic_zoo.__version__}')


@pytest.mark.parametrize('argv', [['--help'], ['train', '--help'],
                                  ['test', '--help'], ['infer', '--help']])
def test_help_imports_no_framework(argv):
    code = ('import sys\nfrom panoptic_zoo.cli import build_parser\n'
            f'build_parser({argv!r}).format_help()\n'
            "print(sorted(m for m in ('torch', 'mmengine', 'mmdet', 'mmcv')"
            ' if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True, cwd=osp.dirname(
                             osp.dirname(panoptic_zoo.__file__)))
    assert out.stdout.strip() == '[]'


def test_info_typo_suggests():
    message = _error(['info', 'PAMM'])
    assert message.startswith("panoptic-zoo info: error: no component "
                              "'PAMM' in any registry of scope panoptic_zoo; "
                              'did you mean ')
    assert 'PAM' in message.split('did you mean ')[1].rstrip('?').split(
        ', ')


def test_list_slot_words(capsys):
    main(['list', 'neck'])
    out = capsys.readouterr().out
    rows = {line.split()[1] for line in out.splitlines()[1:]
            if line.startswith('model ')}
    assert {'FPN', 'PANetPathAug'} <= rows
    assert 'ResNet' not in rows and 'PanopticSegmentor' not in rows
    main(['list', '--slot', 'necks'])
    assert capsys.readouterr().out == out
    assert _error(['list', '--slot', 'tail']).startswith(
        "panoptic-zoo list: error: unknown slot 'tail'; expected one of: "
        'neck, roi-extractor')


def test_new_plugin_clash_is_one_line(tmp_path):
    message = _error(['new-plugin', 'my-pam', '--kind', 'attention',
                      '--class-name', 'PAM', '--out', str(tmp_path)])
    assert message.startswith("panoptic-zoo new-plugin: error: new-plugin: "
                              "'PAM' is already registered")


def test_amp_without_gpu(monkeypatch, synthetic_root, tmp_path):
    import torch
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert _error(['train', config_path(CONFIG), '--amp', '--data-root',
                   synthetic_root, '--work-dir', str(tmp_path)]) == (
        'panoptic-zoo train: error: --amp (mixed precision) needs a CUDA '
        'GPU and none is visible here; train without --amp')


def test_relative_data_root_from_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message = _error(['train', config_path(CONFIG)])
    assert message == (
        'panoptic-zoo train: error: train annotations data/synthetic/'
        'annotations/panoptic_train2017.json not found (data root '
        f"'data/synthetic/' is relative to the current folder {tmp_path}); "
        'run `panoptic-zoo make-data data/synthetic/` for the built-in '
        'dataset, or pass --data-root /absolute/path/to/dataset')


def test_saved_config_records_data_root(synthetic_root, tmp_path):
    cfg = load_config(config_path(CONFIG), str(tmp_path),
                      data_root=synthetic_root)
    check_data_root(cfg)  # the real root passes
    cfg.dump(str(tmp_path / 'saved.py'))
    text = (tmp_path / 'saved.py').read_text()
    assert f"data_root = '{synthetic_root}'" in text
    assert "'data/synthetic/" not in text
    cfg.test_dataloader.dataset.ann_file = 'nope.json'
    with pytest.raises(DataRootError, match='test annotations .*nope.json'):
        check_data_root(cfg)


@pytest.mark.slow
def test_broken_pipe_is_quiet():
    proc = subprocess.run(
        f'{sys.executable} -m panoptic_zoo.cli info FPN | head -1',
        shell=True, capture_output=True, text=True,
        cwd=osp.dirname(osp.dirname(panoptic_zoo.__file__)))
    assert proc.stdout.strip() == 'FPN'
    assert 'Traceback' not in proc.stderr and 'BrokenPipe' not in proc.stderr


@pytest.mark.slow
def test_short_training_piped_to_a_file(synthetic_root, tmp_path):
    log = tmp_path / 'console.txt'
    work = tmp_path / 'work'
    options = ['train_cfg.max_iters=3', 'train_cfg.val_interval=3',
               'default_hooks.checkpoint.interval=3']
    for split in ('train', 'val', 'test'):
        options += [f'{split}_dataloader.num_workers=0',
                    f'{split}_dataloader.persistent_workers=False']
    with open(log, 'w') as f:
        subprocess.run(
            [sys.executable, '-m', 'panoptic_zoo.cli', 'train',
             config_path(CONFIG), '--data-root', synthetic_root,
             '--work-dir', str(work), '--cfg-options', *options],
            stdout=f, stderr=subprocess.STDOUT, check=True,
            cwd=osp.dirname(osp.dirname(panoptic_zoo.__file__)),
            env=dict(os.environ, PANOPTIC_ZOO_DISABLE_PLUGINS='1'))
    text = log.read_text()
    assert '\r' not in text
    lines = text.splitlines()
    logger = re.compile(r'^\d\d/\d\d \d\d:\d\d:\d\d - mmengine - ')
    bar = re.compile(r'^(train|val|test)  \d+/\d+  \[')
    for line in lines:  # a log line or a bar line, never both glued
        assert not (logger.match(line) and bar.search(line[1:])), line
        assert not (bar.match(line) and ' - mmengine - ' in line), line
    # losses logged for a 3-iteration run, versions on top, no dumps
    assert sum('loss:' in line for line in lines) == 3
    assert 'panoptic_zoo ' + panoptic_zoo.__version__ in text
    assert 'Config:' not in text and 'Hooks will be executed' not in text
    assert 'avg_non_ignore' not in text and 'FileClient' not in text
    file_log = next(work.glob('*/*.log')).read_text()
    assert 'Config:' in file_log and 'Hooks will be executed' in file_log
    assert len(lines) < 40
