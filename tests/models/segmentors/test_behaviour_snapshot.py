"""Every panoptic ``_synthetic`` config gives, bit for bit, the losses and
panoptic maps recorded before the data path was redesigned
(``tests/data/behaviour_snapshot.npz``, written by
``python -m panoptic_zoo.testing.behaviour``)."""
from pathlib import Path

import numpy as np
import pytest

from panoptic_zoo.testing.behaviour import panoptic_configs, snapshot

SNAPSHOT = Path(__file__).resolve().parents[2] / 'data' / \
    'behaviour_snapshot.npz'


def _recorded():
    with np.load(SNAPSHOT) as data:
        return {key: data[key] for key in data.files}


RECORDED = _recorded()


def test_every_panoptic_config_was_recorded():
    recorded = sorted({key.split(':')[0] for key in RECORDED})
    assert recorded == panoptic_configs()


@pytest.mark.slow
@pytest.mark.parametrize('config', panoptic_configs())
def test_same_losses_and_maps_as_recorded(config):
    got = snapshot(config)
    want = {
        key.split(':', 1)[1]: value
        for key, value in RECORDED.items() if key.startswith(config + ':')
    }
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        assert got[key].dtype == value.dtype, key
        np.testing.assert_array_equal(got[key], value, err_msg=key)
