"""Bad input fails before any model is built, naming the argument/file."""
import pytest

from panoptic_zoo.cli import main

R18 = 'configs/panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


def _bench(*argv):
    return main(['benchmark', '--device', 'cpu', *argv])


def test_unknown_config(tmp_path):
    with pytest.raises(
            SystemExit,
            match='--configs: config not found: nope.py \\(not a file, '
            'nor a zoo config; the zoo configs are under '):
        _bench('--configs', 'nope.py', '--out-dir', str(tmp_path))


def test_malformed_input(tmp_path):
    with pytest.raises(SystemExit, match="--input: .*got '2x800'"):
        _bench('--input', '2x800', '--out-dir', str(tmp_path))


def test_checkpoint_naming_an_unknown_model(tmp_path):
    ckpt = tmp_path / 'w.pth'
    ckpt.write_bytes(b'')
    with pytest.raises(
            SystemExit,
            match="'upsnet' is not a benchmarked model .*"
            'models: mmdet-panoptic-fpn, panoptic-fpn'):
        _bench('--configs', R18, '--data-root', str(tmp_path), '--checkpoint',
               f'upsnet={ckpt}')


def test_missing_checkpoint_file(tmp_path):
    with pytest.raises(
            SystemExit,
            match='--checkpoint panoptic-fpn: checkpoint file '
            'not found: .*missing.pth'):
        _bench('--configs', R18, '--data-root', str(tmp_path), '--checkpoint',
               f'panoptic-fpn={tmp_path}/missing.pth')


def test_checkpoint_needs_data_root(tmp_path):
    with pytest.raises(SystemExit, match='--checkpoint needs --data-root'):
        _bench('--configs', R18, '--checkpoint', 'panoptic-fpn=w.pth')


def test_data_root_not_in_coco_layout(tmp_path):
    ckpt = tmp_path / 'w.pth'
    ckpt.write_bytes(b'')
    with pytest.raises(
            SystemExit,
            match='not in the COCO panoptic layout.*missing '
            'annotations/panoptic_val2017.json, val2017/'):
        _bench('--configs', R18, '--data-root', str(tmp_path), '--checkpoint',
               f'panoptic-fpn={ckpt}')


def test_amp_needs_cuda(tmp_path):
    with pytest.raises(SystemExit, match='--precision amp needs --device'):
        _bench('--precision', 'amp', '--out-dir', str(tmp_path))


def test_bad_counts(tmp_path):
    with pytest.raises(SystemExit, match='--steps: expected an integer >= 1'):
        _bench('--steps', '0', '--out-dir', str(tmp_path))


def test_checkpoint_with_skip_accuracy(tmp_path):
    with pytest.raises(SystemExit, match='--checkpoint with --skip-accuracy'):
        _bench('--configs', R18, '--skip-accuracy', '--data-root',
               str(tmp_path), '--checkpoint', 'panoptic-fpn=w.pth')


def test_cpu_clock_needs_cpu_device(tmp_path, monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    with pytest.raises(SystemExit, match='--clock cpu needs --device cpu'):
        main([
            'benchmark', '--device', 'cuda', '--clock', 'cpu', '--out-dir',
            str(tmp_path)
        ])
