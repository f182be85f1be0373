"""The zoo's configs ship in the package: loaded by name or by
``panoptic_zoo::`` path from any directory, inherited by a user's config
outside the checkout; no module outside ``testing`` imports it."""
import ast
from pathlib import Path

import pytest
from mmengine.config import Config

import panoptic_zoo
from panoptic_zoo.registry import MODELS
from panoptic_zoo.zoo_configs import (CONFIG_ROOT, resolve_config,
                                      zoo_config_names, zoo_name)

PACKAGE = Path(panoptic_zoo.__file__).resolve().parent


def test_configs_live_in_the_package():
    assert CONFIG_ROOT == PACKAGE / '.mim' / 'configs'
    names = zoo_config_names()
    assert 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py' in names
    assert not any(n.startswith('_base_/') for n in names)
    assert len(names) == len(list(CONFIG_ROOT.glob('[!_]*/*.py')))


def test_no_module_outside_testing_imports_it():
    offenders = []
    for path in PACKAGE.rglob('*.py'):
        if 'testing' in path.relative_to(PACKAGE).parts[:1] or \
                '.mim' in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = ('panoptic_zoo.' if node.level else '') + (
                    node.module or '')
                names = [module] + [f'{module}.{a.name}' for a in node.names]
            if any(n.startswith('panoptic_zoo.') and 'testing' in n.split('.')
                   for n in names):
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_resolve_by_path_package_path_name_and_stem(tmp_path, monkeypatch):
    rel = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'
    full = str(CONFIG_ROOT / rel)
    monkeypatch.chdir(tmp_path)  # outside the checkout
    assert resolve_config(full) == full
    assert resolve_config(f'panoptic_zoo::{rel}') == full
    assert resolve_config(rel) == full
    assert resolve_config('panoptic-fpn_r18-tiny_fpn_2k_synthetic') == full
    assert resolve_config('panoptic-fpn_r18-tiny_fpn_2k_synthetic.py') == full
    assert zoo_name(full) == rel and zoo_name(str(tmp_path)) is None
    with pytest.raises(FileNotFoundError) as error:
        resolve_config('panoptic-fpn_r18-tiny_fpn_2k_synthtic', 'config')
    assert 'config: config not found: panoptic-fpn_r18-tiny_fpn_2k_synthtic'\
        in str(error.value)
    assert 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py' in str(
        error.value)  # the closest names


@pytest.mark.slow
@pytest.mark.parametrize('name', zoo_config_names())
def test_a_user_config_outside_the_checkout_inherits_it(
        name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user = tmp_path / 'my_config.py'
    user.write_text(f"_base_ = 'panoptic_zoo::{name}'\n"
                    "model = dict(backbone=dict(init_cfg=None))\n")
    cfg = Config.fromfile(str(user))
    zoo = Config.fromfile(str(CONFIG_ROOT / name))
    zoo.model.backbone.init_cfg = None
    assert cfg.to_dict() == zoo.to_dict()
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
