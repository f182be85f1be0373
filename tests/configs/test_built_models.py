"""Every zoo config builds the same model it built before its widths
flowed from the neck: same state_dict keys and shapes
(``tests/data/built_models.json``, written by running this file:
``python tests/configs/test_built_models.py``)."""
import hashlib
import json
import sys
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from panoptic_zoo.zoo_configs import CONFIG_ROOT

RECORD = Path(__file__).resolve().parents[1] / 'data' / 'built_models.json'


def zoo_configs():
    """Every zoo config (``<dir>/<file>.py``), fragments left out."""
    return sorted(
        str(p.relative_to(CONFIG_ROOT)) for p in CONFIG_ROOT.glob('*/*.py')
        if p.parent.name != '_base_')


def layout(relative):
    """Sorted ``key shape`` lines of the model a config builds, and a
    digest of them."""
    from panoptic_zoo.registry import MODELS, SCOPE
    cfg = Config.fromfile(str(CONFIG_ROOT / relative))
    cfg.model.backbone.init_cfg = None  # no download: shapes only
    with DefaultScope.overwrite_default_scope(SCOPE):
        model = MODELS.build(cfg.model)
    lines = sorted(f'{k} {tuple(v.shape)}'
                   for k, v in model.state_dict().items())
    return lines, hashlib.sha256('\n'.join(lines).encode()).hexdigest()


def test_every_config_was_recorded():
    assert sorted(json.loads(RECORD.read_text())) == zoo_configs()


@pytest.mark.slow
@pytest.mark.parametrize('config', zoo_configs())
def test_same_state_dict_layout_as_recorded(config):
    want = json.loads(RECORD.read_text())[config]
    lines, digest = layout(config)
    assert len(lines) == want['keys'], config
    assert digest == want['sha256'], (
        f'{config}: state_dict keys or shapes changed; now:\n' +
        '\n'.join(lines))


if __name__ == '__main__':
    record = {}
    for name in zoo_configs():
        lines, digest = layout(name)
        record[name] = dict(keys=len(lines), sha256=digest)
        print(name, len(lines), digest[:12], flush=True)
    RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + '\n')
    sys.exit(0)
