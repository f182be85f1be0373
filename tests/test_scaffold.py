"""``panoptic-zoo new-plugin``: the package it writes installs and passes
its own tests."""
import random
import string
import subprocess
import sys

import pytest

from panoptic_zoo.cli import main
from panoptic_zoo.scaffold import (FILES, KINDS, TEMPLATES, new_plugin,
                                   plugin_fields, render)


def test_fields_from_name():
    fields = plugin_fields('panoptic-zoo-my-gate', 'attention')
    assert fields['package'] == 'panoptic_zoo_my_gate'
    assert fields['class_name'] == 'MyGateAttention'
    assert fields['module'] == 'my_gate_attention'
    assert fields['config'] == 'panoptic-fpn-my-gate_r18-tiny_fpn_2k_synthetic'
    assert plugin_fields(
        'cool_fusion', 'fusion_head')['class_name'] == ('CoolFusionFusionHead')
    assert plugin_fields('x-net', 'neck', 'XNet')['class_name'] == 'XNet'


@pytest.mark.parametrize(
    'args,match',
    [(('my plugin', ), 'distribution name'),
     (('panoptic-zoo-x', 'backbone'), "--kind 'backbone'"),
     (('torch', ), "import name 'torch'"),
     (('panoptic-zoo-x', 'neck', 'lower'), "--class-name 'lower'")])
def test_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        plugin_fields(*args)


def test_refuses_taken_name_and_existing_dir(tmp_path):
    with pytest.raises(
            ValueError, match="'FPN' is already registered by "
            "'mmdet'"):
        new_plugin('panoptic-zoo-fpn', 'neck', str(tmp_path), 'FPN')
    (tmp_path / 'panoptic-zoo-x' / 'keep').mkdir(parents=True)
    with pytest.raises(FileExistsError, match='panoptic-zoo-x'):
        new_plugin('panoptic-zoo-x', out=str(tmp_path))


def test_render_names_unknown_placeholder():
    with pytest.raises(KeyError, match=r'setup.cfg.*{{nope}}'):
        render('a {{nope}}', {'dist': 'x'}, 'setup.cfg')


@pytest.mark.parametrize('kind', list(KINDS))
def test_every_kind_renders_valid_python(tmp_path, kind):
    root = new_plugin(f'panoptic-zoo-render-{kind}', kind, str(tmp_path))
    written = sorted(
        p.relative_to(root).as_posix() for p in root.rglob('*') if p.is_file())
    assert len(written) == len(FILES)
    for path in root.rglob('*'):
        if path.is_file():
            text = path.read_text()
            assert '{{' not in text, path
            if path.suffix == '.py':
                compile(text, str(path), 'exec')
    assert all(
        (TEMPLATES / t.replace('{kind}', kind)).is_file() for t in FILES)


def _pip(*args):
    out = subprocess.run([
        sys.executable, '-m', 'pip', *args, '--disable-pip-version-check', '-q'
    ],
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_generated_plugins_pass_their_tests_after_pip_install(tmp_path):
    # A unique name: the install goes into the shared environment.
    token = ''.join(random.choices(string.ascii_lowercase, k=8))
    roots = []
    for kind in KINDS:
        name = f'pz-scaffold-{token}-{kind.replace("_", "-")}'
        main(['new-plugin', name, '--kind', kind, '--out', str(tmp_path)])
        roots.append(tmp_path / name)
    editable = [arg for root in roots for arg in ('-e', str(root))]
    _pip('install', '--no-deps', '--no-build-isolation', '--no-index',
         *editable)
    try:
        out = subprocess.run([
            sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
            *[str(root / 'tests') for root in roots]
        ],
                             cwd=tmp_path,
                             capture_output=True,
                             text=True)
    finally:
        _pip('uninstall', '-y', *[root.name for root in roots])
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-3000:]
    assert ' passed' in out.stdout and 'failed' not in out.stdout
