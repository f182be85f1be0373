"""Config typos fail when the config is loaded, naming the key."""
import pytest

from panoptic_zoo.engine.config_check import ConfigKeyError
from panoptic_zoo.engine.launch import load_config
from panoptic_zoo.testing import config_path

CONFIG = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


def _load(**options):
    return load_config(config_path(CONFIG), work_dir='unused',
                       cfg_options=options)


@pytest.mark.parametrize('key, value, expected', [
    ('trian_cfg.max_iters', 1,
     "the config has no key 'trian_cfg' (did you mean 'train_cfg'?)"),
    ('model.test_cfg.rcnn.score_thrr', 0.9,
     "model.test_cfg.rcnn has no key 'score_thrr' (did you mean "
     "'score_thr'?)"),
    ('default_hooks.checkpoint.max_keep_ckpt', 3,
     "default_hooks.checkpoint has no key 'max_keep_ckpt' (did you mean "
     "'max_keep_ckpts'?)"),
    ('train_cfg.max_iters', 'abc',
     'train_cfg.max_iters=abc: expected a number (the config has 2000)'),
    ('optim_wrapper.optimizer.lr', 'fast',
     'optim_wrapper.optimizer.lr=fast: expected a number'),
    ('custom_hooks.7.priority', 1, 'custom_hooks.7 is not an index'),
])
def test_typo_in_cfg_options_names_key_and_fix(key, value, expected):
    with pytest.raises(ConfigKeyError) as error:
        _load(**{key: value})
    assert expected in str(error.value)


def test_hook_argument_typo_in_a_hook_without_kwargs():
    """A new hook key is checked against the hook's own signature."""
    with pytest.raises(ConfigKeyError) as error:
        _load(**{'default_hooks.nonfinite_guard.max_skip': 2})
    assert "did you mean 'max_skips'?" in str(error.value)


def test_numeric_hook_argument_given_as_text():
    with pytest.raises(ConfigKeyError,
                       match=r'default_hooks.logger.interval=often'):
        _load(**{'default_hooks.logger.interval': 'often'})


def test_valid_overrides_are_merged():
    cfg = _load(**{
        'train_cfg.max_iters': 5,
        'model.test_cfg.rcnn.score_thr': 0.9,
        'default_hooks.checkpoint.max_keep_ckpts': 3,
        # absent keys that their readers accept
        'randomness.seed': 7,
        'train_cfg.dynamic_intervals': [(4, 2)],
        'default_hooks.nonfinite_guard.max_skips': 2,
        'custom_hooks.0.priority': 'LOW',
        # a float where the config has an int is fine
        'optim_wrapper.clip_grad.max_norm': 20.5,
    })
    assert cfg.train_cfg.max_iters == 5
    assert cfg.model.test_cfg.rcnn.score_thr == 0.9
    assert cfg.default_hooks.checkpoint.max_keep_ckpts == 3
    assert cfg.randomness.seed == 7
    assert cfg.default_hooks.nonfinite_guard.max_skips == 2
    assert cfg.optim_wrapper.clip_grad.max_norm == 20.5


def test_typo_in_the_config_file_itself(tmp_path):
    config = tmp_path / 'typo.py'
    config.write_text(
        f"_base_ = ['{config_path(CONFIG)}']\n"
        "default_hooks = dict(checkpoint=dict(max_keep_ckpt=3))\n")
    with pytest.raises(ConfigKeyError, match="did you mean 'max_keep_ckpts'"):
        load_config(str(config), work_dir='unused')
