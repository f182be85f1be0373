import json

import numpy as np
import pytest
from PIL import Image

from panoptic_zoo.cli import main
from panoptic_zoo.evaluation.pq_files import read_id_map
from panoptic_zoo.panoptic_png import INSTANCE_OFFSET
from panoptic_zoo.visualization import class_palette
from panoptic_zoo.visualization.plot_logs import read_scalars
from panoptic_zoo.visualization.show_data import dataset_sheet, gt_panoptic


def test_gt_panoptic_numbers_things_and_keeps_crowd_as_class():
    ids = np.array([[5, 5, 9], [7, 7, 0]])
    segs = [dict(id=5, category_id=10), dict(id=9, category_id=20),
            dict(id=7, category_id=10, iscrowd=1)]
    label_of = {10: (0, True), 20: (1, False)}
    pan = gt_panoptic(segs, ids, label_of)
    np.testing.assert_array_equal(
        pan, [[0 + INSTANCE_OFFSET, 0 + INSTANCE_OFFSET, 1], [0, 0, 2]])


def test_sheet_shows_the_dataset_classes(synthetic_root, tmp_path, capsys):
    sheet, titles = dataset_sheet(synthetic_root, 'val', num=2)
    assert len(titles) == 2 and titles[0].startswith('000001000001.jpg')
    gt = json.load(open(f'{synthetic_root}/annotations/'
                        'panoptic_val2017.json'))
    colors = class_palette(len(gt['categories']),
                           [c['color'] for c in gt['categories']])
    pixels = {tuple(p) for p in sheet.reshape(-1, 3)}
    present = set()
    for ann in gt['annotations'][:2]:
        ids = read_id_map(f'{synthetic_root}/annotations/panoptic_val2017/'
                          f'{ann["file_name"]}').numpy()
        cats = {s['id']: s['category_id'] for s in ann['segments_info']}
        present |= {cats[i] for i in np.unique(ids) if i in cats}
    for k, cat in enumerate(gt['categories']):
        # a legend swatch in the class colour iff the class is present
        assert (colors[k] in pixels) == (cat['id'] in present), cat['name']
    out = tmp_path / 'sheet.png'
    main(['show-data', synthetic_root, '--n', '2', '--out', str(out)])
    assert Image.open(out).size == (sheet.shape[1], sheet.shape[0])


def test_show_data_wrong_root_is_one_line(tmp_path):
    with pytest.raises(SystemExit) as info:
        main(['show-data', str(tmp_path)])
    assert 'panoptic_val2017.json not found' in str(info.value.code)
    assert 'make-data' in str(info.value.code)


def _run(tmp_path, name, losses, pq):
    vis = tmp_path / name / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    rows = [dict(loss=l, loss_mask=l / 2, lr=0.02, step=i + 1)
            for i, l in enumerate(losses)]
    rows.append({'coco_panoptic/PQ': pq, 'step': len(losses)})
    (vis / 'scalars.json').write_text(
        '\n'.join(json.dumps(r) for r in rows) + '\n')
    return str(tmp_path / name)


def test_plot_logs_two_runs(tmp_path):
    a = _run(tmp_path, 'a', [3.0, 2.0, 1.5], 40.0)
    b = _run(tmp_path, 'b', [3.2, 2.5, 2.0], 30.0)
    series = read_scalars(f'{a}/20260101_000000/vis_data/scalars.json')
    assert series['loss'] == ([1, 2, 3], [3.0, 2.0, 1.5])
    assert series['coco_panoptic/PQ'] == ([3], [40.0])
    out = tmp_path / 'logs.png'
    main(['plot-logs', a, b, '--out', str(out)])
    width, height = Image.open(out).size
    assert (width, height) == (1500, 340)  # 3 panels: loss, mask, PQ
    with pytest.raises(SystemExit) as info:
        main(['plot-logs', a, '--keys', 'loss_nope', '--out', str(out)])
    assert "no values for ['loss_nope']" in str(info.value.code)
    assert 'loss_mask' in str(info.value.code)
