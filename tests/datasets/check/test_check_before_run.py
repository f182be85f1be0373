"""train / test check the annotations before building anything, and stop
with the check-data report; --skip-data-check skips it."""
import json

import pytest

from panoptic_zoo.cli import build_parser
from panoptic_zoo.datasets.check import DataCheckError
from panoptic_zoo.datasets.check.config import check_config_data
from panoptic_zoo.engine import launch
from panoptic_zoo.testing import config_path, tiny_synthetic_config

CONFIG = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


class _NoRunner(Exception):
    pass


@pytest.fixture
def no_runner(monkeypatch):
    """Runner.from_cfg raises: reaching it means the check let the run go."""
    def refuse(cfg):
        raise _NoRunner
    monkeypatch.setattr(launch.Runner, 'from_cfg', refuse)


def _args(command, root, tmp_path, *extra):
    argv = [command, config_path(CONFIG), '--data-root', str(root),
            '--work-dir', str(tmp_path / 'work'), *extra]
    if command == 'test':
        ckpt = tmp_path / 'model.pth'
        ckpt.write_bytes(b'')
        argv.insert(2, str(ckpt))
    return build_parser(argv).parse_args(argv)


def test_clean_config_data_passes(tiny_root, tmp_path):
    cfg = tiny_synthetic_config(str(tiny_root), str(tmp_path))
    reports = check_config_data(cfg)
    # train and val JSONs, each once
    assert [r.name.split()[0] for r in reports] == ['train', 'val']
    assert all(r.ok and not r.pixels_checked for r in reports)


@pytest.mark.parametrize('command', ['train', 'test'])
def test_run_stops_before_the_runner(broken, tmp_path, no_runner, command):
    seg = broken.ann(1)['segments_info'][0]
    seg['category_id'] = 99
    broken.save()
    with pytest.raises(DataCheckError) as info:
        launch.train(_args(command, broken.root, tmp_path)) \
            if command == 'train' else \
            launch.test(_args(command, broken.root, tmp_path))
    message = str(info.value)
    assert 'segment-unknown-category x1' in message
    assert (f'{broken.ann_file}, image {broken.ann(1)["image_id"]!r}, '
            f'segment {seg["id"]}: category_id 99') in message
    assert not (tmp_path / 'work').exists()  # nothing written


def test_duplicate_image_ids_stop_training(broken, tmp_path, no_runner):
    broken.data['images'][1]['id'] = broken.data['images'][0]['id']
    broken.save()
    with pytest.raises(DataCheckError, match='image-duplicate-id x1'):
        launch.train(_args('train', broken.root, tmp_path))


def test_skip_data_check(broken, tmp_path, no_runner):
    broken.data['categories'][0].pop('isthing')
    broken.save()
    with pytest.raises(_NoRunner):
        launch.train(_args('train', broken.root, tmp_path,
                           '--skip-data-check'))


def test_classes_of_the_config_against_the_json(broken, tmp_path,
                                                no_runner):
    cats = broken.data['categories']
    cats[0]['name'] = 'disc'
    broken.save()
    with pytest.raises(DataCheckError, match="class 'circle' of metainfo"):
        launch.train(_args('train', broken.root, tmp_path))


def test_check_data_command(broken, tmp_path, capsys):
    from panoptic_zoo.cli import main
    assert main(['check-data', str(broken.root), '--jobs', '1']) == 0
    broken.ann(0)['segments_info'].pop()
    broken.save()
    out_json = tmp_path / 'report.json'
    with pytest.raises(SystemExit) as info:
        main(['check-data', str(broken.root), '--split', 'train', '--json',
              str(out_json)])
    assert info.value.code == 1
    out = capsys.readouterr().out
    assert 'error png-id-not-in-json x1' in out
    report = json.loads(out_json.read_text())
    assert not report['ok']
    example = report['splits'][0]['problems']['png-id-not-in-json'][
        'examples'][0]
    assert example['file'] == str(broken.png(0))
