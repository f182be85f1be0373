"""Median, ratios, input parsing, the zoo list and CPU peak memory."""
import glob
import os.path as osp

import pytest
import torch

from panoptic_zoo.benchmark import zoo
from panoptic_zoo.benchmark.build import model_config
from panoptic_zoo.benchmark.inputs import parse_input
from panoptic_zoo.benchmark.memory import PeakMemory
from panoptic_zoo.benchmark.plan import parse_checkpoints
from panoptic_zoo.benchmark.report import add_ratios, ratio
from panoptic_zoo.benchmark.speed import median, mmcv_supports_bf16


def test_median():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    with pytest.raises(ValueError, match='no values'):
        median([])


def test_ratio():
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0.0) is None


def _row(name, reference, s, mem, params):
    speed = dict(
        fp32=dict(
            train=dict(s_per_iter=s, peak_memory_bytes=mem),
            inference=dict(latency_s=s / 10, throughput=10 / s)))
    return dict(
        name=name,
        reference=reference,
        params=params,
        flops_per_image=None,
        speed=speed)


def test_add_ratios_divides_by_the_reference_row():
    rows = [_row('ref', True, 2.0, 100, 10), _row('a', False, 3.0, 250, 5)]
    add_ratios(rows, 'ref')
    r = rows[1]['ratios']
    assert r['fp32'] == pytest.approx(
        dict(
            train_time=1.5,
            train_memory=2.5,
            infer_latency=1.5,
            infer_throughput=2 / 3))
    assert r['params'] == 0.5 and r['flops'] is None
    assert rows[0]['ratios']['fp32']['train_time'] == 1.0


def test_parse_input():
    assert parse_input('2x800x1216') == (2, 800, 1216)
    assert parse_input(' 1 x 64 x 96 ') == (1, 64, 96)
    for bad in ('2x800', '0x64x64', 'axbxc', '2x-1x3'):
        with pytest.raises(ValueError, match='--input: expected BxHxW'):
            parse_input(bad)


def test_parse_checkpoints():
    assert parse_checkpoints(['a=x.pth', 'b=y=z.pth']) == {
        'a': 'x.pth',
        'b': 'y=z.pth'
    }
    with pytest.raises(ValueError, match='--checkpoint: expected NAME=PATH'):
        parse_checkpoints(['a.pth'])
    with pytest.raises(ValueError, match="'a' given twice"):
        parse_checkpoints(['a=x', 'a=y'])


def test_default_zoo_has_every_model_and_new_mixes():
    entries = zoo.zoo_entries()
    names = [e.name for e in entries]
    assert names[0] == zoo.REFERENCE_NAME and entries[0].reference
    assert names[1:5] == ['panoptic-fpn', 'panoptic-panet', 'upsnet', 'aunet']
    mixes = glob.glob(str(zoo.CONFIG_ROOT / 'mix' / '*_coco.py'))
    assert len(mixes) >= 2 and len(entries) == 5 + len(mixes)
    for entry in entries:
        assert osp.isfile(entry.config)
        assert entry.synthetic_config.endswith('_synthetic.py')
        assert osp.isfile(entry.synthetic_config)
    upsnet = entries[3]
    assert osp.basename(upsnet.synthetic_config) == \
        'upsnet_r18-tiny_fpn_2k_synthetic.py'


def test_missing_synthetic_partner_is_named(tmp_path):
    config = tmp_path / 'newnet_r50_fpn_1x_coco.py'
    config.write_text("_base_ = []\n")
    with pytest.raises(
            FileNotFoundError,
            match=r'newnet_\*_fpn_\*_synthetic.py, found none'):
        zoo.synthetic_partner(str(config))
    assert zoo.synthetic_partner('x/a_r18_fpn_2k_synthetic.py') == \
        'x/a_r18_fpn_2k_synthetic.py'


def test_cpu_peak_memory_sees_an_allocation():
    with PeakMemory('cpu') as memory:
        x = torch.ones(25_000_000)  # 100 MB, touched
        del x
    assert 95e6 <= memory.peak_bytes < 250e6
    assert 'RSS' in memory.method


def test_mmcv_roi_align_has_no_bf16_on_cpu():
    # why AMP falls back to fp16 where mmcv lacks bf16 kernels
    assert mmcv_supports_bf16('cpu') is False


def test_speed_models_run_at_full_load_unless_overridden():
    path = str(zoo.CONFIG_ROOT / zoo.ZOO_CONFIGS[0])
    model = model_config(path)
    assert model.test_cfg.rcnn.score_thr == 0.0  # was 0.6
    assert model.backbone.init_cfg is None  # no download
    model = model_config(path, {'model.test_cfg.rcnn.score_thr': 0.5})
    assert model.test_cfg.rcnn.score_thr == 0.5


def test_time_calls_clocks():
    import time
    from panoptic_zoo.benchmark.speed import time_calls
    calls = []
    wall = time_calls(lambda: (calls.append(1), time.sleep(0.05)), 2, 1, 'cpu')
    assert len(calls) == 3 and len(wall) == 2
    assert all(0.045 < t < 1.0 for t in wall)
    # sleeping uses no CPU: the process clock does not count it
    cpu = time_calls(lambda: time.sleep(0.05), 2, 0, 'cpu', clock='cpu')
    assert all(t < 0.02 for t in cpu)
