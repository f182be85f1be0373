"""The speed ablation at a tiny CPU size: rows, ratios, table."""
import math

import pytest

from panoptic_zoo.benchmark import speed_ablation

ROWS = ['mmdet fp32', 'ours fp32', '+ cached anchors']


@pytest.fixture(scope='module')
def result():
    seen = []
    out = speed_ablation.run(
        'cpu', (1, 128, 160),
        instances=3,
        infer_batch=1,
        steps=1,
        warmup=0,
        names=ROWS,
        on_row=lambda r: seen.append(len(r['rows'])))
    out['seen'] = seen
    return out


def test_rows_in_order_with_progress(result):
    assert [r['name'] for r in result['rows']] == ROWS
    assert result['seen'] == [1, 2, 3]
    # Each row keeps the switches of the rows above it.
    last = result['rows'][-1]['cfg_options']
    assert last['model.roi_head.bbox_head.type'] == \
        'TopKNMSShared2FCBBoxHead'
    assert last['model.roi_head.mask_head.type'] == 'SyncFreeFCNMaskHead'
    assert last['model.rpn_head.anchor_generator.type'] == \
        'CachedAnchorGenerator'
    assert last['model.channels_last'] is True
    assert result['rows'][0]['cfg_options'] == {}


def test_ratios_against_the_reference_row(result):
    ref = result['rows'][0]
    assert ref['train_ratio'] == 1.0
    for row in result['rows']:
        assert row['train']['s_per_iter'] > 0
        assert math.isfinite(row['inference']['throughput'])
        assert row['train_ratio'] == pytest.approx(
            row['train']['s_per_iter'] / ref['train']['s_per_iter'])
        assert row['throughput_ratio'] == pytest.approx(
            row['inference']['throughput'] /
            ref['inference']['throughput'])
        assert row['forward_flops'] > 0


def test_markdown_has_every_row(result):
    table = speed_ablation.markdown(result).splitlines()
    assert len(table) == 2 + len(ROWS)
    for name, line in zip(ROWS, table[2:]):
        assert line.startswith(f'| {name} |')
