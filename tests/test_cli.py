import subprocess
import sys

import pytest

from panoptic_zoo.cli import build_parser, main


def test_subcommands_parse():
    parser = build_parser()
    args = parser.parse_args(['train', 'c.py', '--resume', '--amp'])
    assert args.load_from is None
    assert (args.command, args.resume, args.amp) == ('train', 'auto', True)
    args = parser.parse_args(['test', 'c.py', 'w.pth', '--data-root', 'd'])
    assert (args.checkpoint, args.data_root) == ('w.pth', 'd')


def test_missing_config_is_named(tmp_path):
    with pytest.raises(SystemExit, match='nope.py'):
        main(['train', str(tmp_path / 'nope.py')])


def test_console_script_help():
    out = subprocess.run(
        [sys.executable, '-m', 'panoptic_zoo.cli', '--help'],
        capture_output=True,
        text=True,
        check=True)
    for command in ('make-data', 'train', 'test'):
        assert command in out.stdout
