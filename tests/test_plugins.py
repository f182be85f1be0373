"""Plugin packages: the installed example, and the documented behaviour for
broken, duplicate, disabled and allow-listed plugins (fake distributions)."""
import itertools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from panoptic_zoo import plugins
from panoptic_zoo.plugins import (EntryPointSpec, PluginConflictError,
                                  PluginImportError, PluginWarning,
                                  load_plugins, plugin_origin)
from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing import tiny_synthetic_config
from panoptic_zoo.testing.configs import REPO_ROOT

EXAMPLE = 'panoptic-zoo-example'
EXAMPLE_CONFIG = (
    REPO_ROOT / 'plugins' / EXAMPLE / 'panoptic_zoo_example' / 'configs' /
    'panoptic-fpn-proposal-gate_r18-tiny_fpn_2k_synthetic.py')
ENV = (plugins.ENV_DISABLE, plugins.ENV_ALLOW, plugins.ENV_STRICT)
_ids = itertools.count()


# ------------------------------------------------------ the real example
def test_example_entry_point_is_discovered():
    specs = plugins._discover()
    assert EntryPointSpec(EXAMPLE, '0.1.0', 'example',
                          'panoptic_zoo_example') in specs
    record = next(r for r in plugins.plugin_records()
                  if r.spec.distribution == EXAMPLE)
    assert record.status == 'loaded'
    assert set(record.components) == {('model', 'ProposalGateAttention'),
                                      ('model', 'SemanticCheckFusionHead')}


def test_example_builds_by_type():
    from panoptic_zoo_example import ProposalGateAttention
    assert plugin_origin('model', 'ProposalGateAttention') == EXAMPLE
    attn = MODELS.build(dict(type='ProposalGateAttention', bg_channels=8))
    assert isinstance(attn, ProposalGateAttention)
    # MMEngine's root registry finds it under our default scope too.
    init_default_scope('panoptic_zoo')
    head = ROOT_MODELS.build(
        dict(type='SemanticCheckFusionHead', num_stuff_classes=3))
    assert type(head).__name__ == 'SemanticCheckFusionHead'


class _Losses(Hook):

    def __init__(self):
        self.losses, self.metrics = [], None

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.losses.append(outputs['loss'].item())

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = metrics


@pytest.mark.slow
def test_short_training_with_example_plugin(synthetic_root, tmp_path):
    cfg = tiny_synthetic_config(
        synthetic_root, str(tmp_path), max_iters=5,
        relative=str(EXAMPLE_CONFIG))
    # Smaller than the config's 320 px and 2 val images: a CPU test.
    for split in ('train', 'val'):
        dataset = cfg[f'{split}_dataloader'].dataset
        for step in dataset.pipeline:
            if step.type == 'Resize':
                step.scale = (128, 128)
    cfg.val_dataloader.dataset.indices = 2
    cfg.custom_hooks = [
        h for h in cfg.custom_hooks if h.type != 'PanopticPictureHook'
    ]
    record = _Losses()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(record)
    runner.train()
    assert type(runner.model.attention[0]).__name__ == 'ProposalGateAttention'
    assert type(runner.model.panoptic_fusion_head
                ).__name__ == 'SemanticCheckFusionHead'
    assert len(record.losses) == 5 and np.isfinite(record.losses).all()
    assert 0.0 <= record.metrics['coco_panoptic/PQ'] <= 100.0
    assert torch.isfinite(runner.model.attention[0].occupancy_weight)


def _python(code, **env):
    return subprocess.Popen(
        [sys.executable, '-c', textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={
            **os.environ,
            **env
        })


@pytest.mark.slow
def test_lazy_loading_and_custom_imports_in_fresh_processes(tmp_path):
    config = tmp_path / 'uses_custom_imports.py'
    config.write_text("custom_imports = dict(imports=['panoptic_zoo_example'])"
                      '\n')
    lazy = _python("""
        from panoptic_zoo.registry import MODELS
        # No register_all_modules: the first build imports our models and
        # with them the plugins.
        m = MODELS.build(dict(type='ProposalGateAttention', bg_channels=4))
        from panoptic_zoo.plugins import plugin_origin
        print('LAZY', type(m).__name__,
              plugin_origin('model', 'ProposalGateAttention'))
        """)
    disabled = _python(
        f"""
        from mmengine.config import Config
        from panoptic_zoo.utils import register_all_modules
        from panoptic_zoo.registry import MODELS
        register_all_modules()
        print('DISABLED', MODELS.get('ProposalGateAttention'))
        Config.fromfile({str(config)!r})  # MMEngine's custom_imports
        print('CUSTOM', MODELS.get('ProposalGateAttention').__name__)
        """, **{plugins.ENV_DISABLE: '1'})
    # Both run at once: each spends most of its time importing torch.
    outputs = [p.communicate(timeout=120)[0] for p in (lazy, disabled)]
    assert lazy.returncode == 0, outputs[0]
    assert f'LAZY ProposalGateAttention {EXAMPLE}' in outputs[0]
    assert disabled.returncode == 0, outputs[1]
    assert 'DISABLED None' in outputs[1]
    assert 'CUSTOM ProposalGateAttention' in outputs[1]


@pytest.mark.slow
def test_example_plugin_own_tests_pass():
    out = subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider'],
        cwd=REPO_ROOT / 'plugins' / EXAMPLE,
        capture_output=True,
        text=True)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-3000:]
    assert ' passed' in out.stdout


# ------------------------------------------------------ fake distributions
@pytest.fixture
def fake(tmp_path, monkeypatch):
    """``fake(dist, body)``: a distribution whose entry-point module runs
    ``body`` (with ``MODELS`` imported); discovery sees only the fakes, and
    plugin state and our registries are restored afterwards."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(plugins, '_STATE', plugins._State())
    saved = {
        kind: dict(reg._module_dict)
        for kind, reg in plugins.registry_kinds().items()
    }
    monkeypatch.syspath_prepend(str(tmp_path))
    specs, modules = [], []
    monkeypatch.setattr(plugins, '_discover', lambda: list(specs))

    def _make(dist, body=''):
        module = f'pz_fake_plugin_{next(_ids)}'
        (tmp_path / f'{module}.py'
         ).write_text('from panoptic_zoo.registry import MODELS\n' +
                      textwrap.dedent(body))
        specs.append(EntryPointSpec(dist, '1.0', 'main', module))
        modules.append(module)
        return module

    yield _make
    for kind, reg in plugins.registry_kinds().items():
        reg._module_dict.clear()
        reg._module_dict.update(saved[kind])
    for module in modules:
        sys.modules.pop(module, None)


def _component(name):
    return f"""
        @MODELS.register_module()
        class {name}:
            '''A fake component.'''
        """


def test_good_plugin_registers_with_its_origin(fake):
    fake('fake-good', _component('FakeGood'))
    (record, ) = load_plugins()
    assert record.status == 'loaded'
    assert record.components == [('model', 'FakeGood')]
    assert MODELS.get('FakeGood').__name__ == 'FakeGood'
    assert plugin_origin('model', 'FakeGood') == 'fake-good'
    assert load_plugins() == [record]  # once


def test_broken_plugin_warns_and_leaves_nothing(fake):
    fake('fake-broken', _component('HalfDone') + "raise RuntimeError('boom')")
    fake('fake-good', _component('FakeGood'))
    with pytest.warns(
            PluginWarning,
            match=r"'fake-broken' 1.0 .*RuntimeError: boom.*"
            'PANOPTIC_ZOO_PLUGINS_STRICT=1'):
        broken, good = load_plugins()
    assert (broken.status, good.status) == ('failed', 'loaded')
    assert MODELS.get('HalfDone') is None  # rolled back
    assert MODELS.get('FakeGood') is not None
    with pytest.raises(PluginImportError, match='fake-broken'):
        load_plugins(strict=True)  # strict after a lenient load


@pytest.mark.parametrize('how', ['argument', 'environment'])
def test_broken_plugin_strict_is_an_error(fake, monkeypatch, how):
    fake('fake-broken', "raise ImportError('no module named cuda_thing')")
    fake('fake-good', _component('FakeGood'))
    if how == 'environment':
        monkeypatch.setenv(plugins.ENV_STRICT, '1')
    with pytest.raises(
            PluginImportError,
            match=r"'fake-broken'.*ImportError: no module named "
            'cuda_thing') as error:
        load_plugins(strict=True if how == 'argument' else None)
    assert isinstance(error.value.__cause__, ImportError)
    # The other plugins were still loaded.
    assert MODELS.get('FakeGood') is not None


def test_duplicate_names_name_both_packages(fake):
    fake('fake-a', _component('SameName'))
    fake('fake-b', _component('SameName'))
    with pytest.raises(
            PluginConflictError,
            match=r"'SameName' in the model registry is "
            r"registered by both 'fake-a' .* and plugin 'fake-b'"):
        load_plugins()
    with pytest.raises(PluginConflictError, match='fake-b'):
        load_plugins()  # stays an error
    assert MODELS.get('SameName').__module__.startswith('pz_fake_plugin')


@pytest.mark.parametrize('name,owner', [('FPN', 'mmdet'),
                                        ('PanopticSegmentor', 'panoptic-zoo')])
def test_plugin_may_not_shadow_existing_names(fake, name, owner):
    before = MODELS.get(name)
    fake('fake-shadow', _component(name))
    with pytest.raises(
            PluginConflictError, match=f"both '{owner}'.*'fake-shadow'"):
        load_plugins()
    assert MODELS.get(name) is before


def test_imported_before_loading_is_still_attributed(fake):
    module = fake('fake-early', _component('EarlyBird'))
    __import__(module)  # e.g. a test module or custom_imports got there first
    load_plugins()
    assert plugin_origin('model', 'EarlyBird') == 'fake-early'


def test_disabled_plugins_are_not_imported(fake, monkeypatch):
    module = fake('fake-good', _component('FakeGood'))
    monkeypatch.setenv(plugins.ENV_DISABLE, '1')
    (record, ) = load_plugins()
    assert record.status == 'skipped' and 'DISABLE' in record.reason
    assert module not in sys.modules and MODELS.get('FakeGood') is None


def test_allow_list(fake, monkeypatch):
    fake('fake-a', _component('FromA'))
    fake('Fake_B', _component('FromB'))
    monkeypatch.setenv(plugins.ENV_ALLOW, 'fake-b, not-installed')
    with pytest.warns(PluginWarning, match="'not-installed'.*fake-a"):
        a, b = load_plugins()
    assert (a.status, b.status) == ('skipped', 'loaded')
    assert MODELS.get('FromA') is None and MODELS.get('FromB') is not None


def test_bad_flag_value_names_the_variable(fake, monkeypatch):
    monkeypatch.setenv(plugins.ENV_DISABLE, 'maybe')
    with pytest.raises(ValueError, match='PANOPTIC_ZOO_DISABLE_PLUGINS'):
        load_plugins()
