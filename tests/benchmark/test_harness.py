"""End-to-end CPU runs at a tiny size: the default zoo (speed, size), the
accuracy phase, and the checkpoint path on the built-in data laid out as
COCO."""
import json
import math
import os.path as osp
import shlex
import sys

import pytest
from PIL import Image

from panoptic_zoo.benchmark import zoo
from panoptic_zoo.benchmark.report import RATIO_FIELDS
from panoptic_zoo.cli import main

pytestmark = pytest.mark.slow  # trains models or runs the benchmark

R18 = 'configs/panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'
TINY = [
    '--device', 'cpu', '--input', '1x128x160', '--instances', '3', '--steps',
    '2', '--warmup', '1', '--infer-batch', '2', '--threads', '1'
]
# Fewer RoIs: on a CPU the R50 RoI heads (512 sampled RoIs, 1000
# proposals, 100 masks) cost seconds per step whatever the image size.
FEW_ROIS = [
    '--cfg-options', 'model.train_cfg.rpn_proposal.max_per_img=32',
    'model.train_cfg.rcnn.sampler.num=16', 'model.test_cfg.rpn.max_per_img=16',
    'model.test_cfg.rcnn.max_per_img=8'
]
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def _run(out_dir, *argv):
    main(['benchmark', *TINY, '--out-dir', str(out_dir), *argv])
    with open(osp.join(out_dir, 'benchmark.json')) as f:
        result = json.load(f)
    with open(osp.join(out_dir, 'benchmark.md')) as f:
        return result, f.read()


def _positive(value, what):
    assert isinstance(value, (int, float)) and math.isfinite(value) \
        and value > 0, f'{what} = {value!r}'


def _check_png(path):
    with open(path, 'rb') as f:
        assert f.read(8) == PNG_MAGIC
    with Image.open(path) as image:
        image.verify()
        assert min(image.size) >= 100


@pytest.fixture(scope='module')
def zoo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('zoo')
    return _run(out, '--skip-accuracy', *FEW_ROIS) + (out, )


def test_default_zoo_rows(zoo_run):
    result, table, _ = zoo_run
    expected = [e.name for e in zoo.zoo_entries(with_synthetic=False)]
    assert len(expected) == 1 + len(zoo.default_configs())
    names = [row['name'] for row in result['models']]
    assert names == expected
    assert {'panoptic-fpn', 'panoptic-panet', 'upsnet', 'aunet'} <= set(names)
    assert result['reference'] == zoo.REFERENCE_NAME
    assert result['settings']['precisions'] == ['fp32']
    assert (result['settings']['batch'], result['settings']['height'],
            result['settings']['width']) == (1, 128, 160)
    for key in ('device', 'torch', 'cuda', 'cudnn', 'mmcv'):
        assert key in result['environment']
    # the process's own command line (here pytest's), and a date
    assert result['command'] == shlex.join(sys.argv) and result['date']
    for name in names:
        assert name in table


def test_default_zoo_numbers_finite_positive(zoo_run):
    result, _, _ = zoo_run
    for row in result['models']:
        name = row['name']
        assert not row['errors'], row['errors']
        _positive(row['params'], f'{name} params')
        _positive(row['flops_per_image'], f'{name} flops')
        _positive(row['forward_flops_per_image'], f'{name} _forward flops')
        speed = row['speed']['fp32']
        for key in ('s_per_iter', 'peak_memory_bytes', 'loss'):
            _positive(speed['train'][key], f'{name} train {key}')
        assert len(speed['train']['times']) == 2
        for key in ('latency_s', 'throughput', 'peak_memory_bytes'):
            _positive(speed['inference'][key], f'{name} inference {key}')
        assert speed['inference']['batch'] == 2
        # no peak FLOPS for a CPU: MFU is null, with the reason
        assert speed['mfu']['train'] is None
        assert "device 'cpu'" in speed['mfu']['note']
        assert row['accuracy'] is None
        assert row['accuracy_note'] == 'skipped (--skip-accuracy)'
        _positive(row['host_syncs']['train_step'], f'{name} train syncs')
        _positive(row['host_syncs']['predict'], f'{name} predict syncs')


def test_host_syncs_same_for_the_same_architecture(zoo_run):
    """Our Panoptic FPN is mmdet's model in our segmentor: it must not
    make a single extra host sync; the table shows the counts."""
    result, table, _ = zoo_run
    rows = {row['name']: row for row in result['models']}
    ours, ref = rows['panoptic-fpn'], rows[result['reference']]
    assert ours['host_syncs'] == ref['host_syncs']
    counts = ref['host_syncs']
    assert f"{counts['train_step']} / {counts['predict']}" in table


def test_default_zoo_ratios_are_row_over_reference(zoo_run):
    result, _, _ = zoo_run
    ref = result['models'][0]
    for row in result['models']:
        ratios = row['ratios']
        assert ratios['params'] == pytest.approx(row['params'] / ref['params'])
        assert ratios['flops'] == pytest.approx(row['flops_per_image'] /
                                                ref['flops_per_image'])
        for key, (phase, field) in RATIO_FIELDS.items():
            value = row['speed']['fp32'][phase][field]
            assert ratios['fp32'][key] == pytest.approx(
                value / ref['speed']['fp32'][phase][field]), key
    # Our Panoptic FPN is mmdet's architecture: same size and FLOPs.
    ours = next(r for r in result['models'] if r['name'] == 'panoptic-fpn')
    assert ours['params'] == ref['params']
    assert ours['ratios']['flops'] == 1.0
    panet = next(r for r in result['models'] if r['name'] == 'panoptic-panet')
    assert panet['ratios']['params'] > 1.3  # path aug. + FC fusion heads


def test_default_zoo_memory_plot(zoo_run):
    result, _, out = zoo_run
    # no PQ measured: only the memory chart
    assert result['plots'] == [osp.join(str(out), 'peak_memory.png')]
    _check_png(result['plots'][0])
    assert not osp.exists(osp.join(out, 'speed_vs_pq.png'))


@pytest.fixture(scope='module')
def accuracy_run(tmp_path_factory, synthetic_root):
    out = tmp_path_factory.mktemp('accuracy')
    return _run(out, '--configs', R18, '--train-iters', '2', '--data-root',
                synthetic_root) + (out, )


def test_accuracy_rows(accuracy_run):
    result, table, out = accuracy_run
    assert result['settings']['train_iters'] == 2
    names = [row['name'] for row in result['models']]
    assert names == [zoo.REFERENCE_NAME, 'panoptic-fpn']
    for row in result['models']:
        assert not row['errors'], row['errors']
        acc = row['accuracy']
        for key in ('PQ', 'PQ_th', 'PQ_st'):
            assert math.isfinite(acc[key]) and 0 <= acc[key] <= 100
        assert acc['iters'] == 2
        assert acc['config'].endswith(
            'panoptic-fpn_r18-tiny_fpn_2k_synthetic.py')
        assert osp.isfile(acc['checkpoint'])
        _positive(row['speed']['fp32']['train']['s_per_iter'], 'train')
        assert row['name'] in table
    ref, ours = result['models']
    assert ref['accuracy']['model_type'] == 'mmdet.PanopticFPN'
    assert ours['accuracy']['model_type'] == 'PanopticSegmentor'
    # the R18 model is far smaller than mmdet's R50 reference
    assert ours['ratios']['params'] < 0.1
    assert sorted(result['plots']) == sorted(
        osp.join(str(out), f) for f in ('speed_vs_pq.png', 'peak_memory.png'))
    for path in result['plots']:
        _check_png(path)


def test_checkpoint_on_coco_layout(accuracy_run, synthetic_root, tmp_path):
    trained = accuracy_run[0]['models'][1]['accuracy']
    result, table = _run(tmp_path, '--configs', R18, '--skip-speed',
                         '--data-root', synthetic_root, '--checkpoint',
                         f'panoptic-fpn={trained["checkpoint"]}')
    ref, ours = result['models']
    assert ours['accuracy']['checkpoint'] == trained['checkpoint']
    # the saved weights evaluated anew give the PQ measured after training
    for key in ('PQ', 'PQ_th', 'PQ_st'):
        assert ours['accuracy'][key] == pytest.approx(trained[key], abs=1e-9)
    assert 'iters' not in ours['accuracy']
    assert ours['speed'] is None and ours['params'] is None
    assert ref['accuracy'] is None
    assert ref['accuracy_note'] == \
        f'no --checkpoint {zoo.REFERENCE_NAME}=PATH'
    assert 'checkpoint' in table
