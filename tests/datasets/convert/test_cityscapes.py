"""convert cityscapes: createPanopticImgs' rules, checked on hand-made
values and round-tripped on the built-in shapes in the Cityscapes layout."""
import glob
import json

import numpy as np
import pytest
from PIL import Image

from panoptic_zoo.datasets.check import check_split, find_splits
from panoptic_zoo.datasets.check.pixels import read_png_ids
from panoptic_zoo.datasets.convert import (CITYSCAPES_PANOPTIC_METAINFO,
                                           convert_cityscapes)
from panoptic_zoo.datasets.convert.cityscapes import cityscapes_segments
from panoptic_zoo.datasets.synthetic_sources import make_cityscapes_source


def test_rules_on_hand_made_values():
    # road, car 0 and 1, a crowd of persons, caravan 1 and parking (both
    # ignored in evaluation), unlabeled, ego vehicle
    values = np.array([[7, 7, 26000, 26001],
                       [24, 24, 29001, 9],
                       [0, 1, 26001, 26001]])
    ids, segments = cityscapes_segments(values)
    np.testing.assert_array_equal(ids, [[7, 7, 26000, 26001],
                                        [24, 24, 0, 0],
                                        [0, 0, 26001, 26001]])
    assert segments == [
        dict(id=7, category_id=7, iscrowd=0),
        dict(id=24, category_id=24, iscrowd=1),
        dict(id=26000, category_id=26, iscrowd=0),
        dict(id=26001, category_id=26, iscrowd=0),
    ]
    _, train_ids = cityscapes_segments(values, use_train_id=True)
    assert [s['category_id'] for s in train_ids] == [0, 11, 13, 13]
    with pytest.raises(ValueError, match='label id 77'):
        cityscapes_segments(np.array([[77000]]))


def test_classes_are_the_19_evaluated_of_which_8_things():
    meta = CITYSCAPES_PANOPTIC_METAINFO
    assert meta['thing_classes'] == ('person', 'rider', 'car', 'truck', 'bus',
                                     'train', 'motorcycle', 'bicycle')
    assert meta['stuff_classes'] == (
        'road', 'sidewalk', 'building', 'wall', 'fence', 'pole',
        'traffic light', 'traffic sign', 'vegetation', 'terrain', 'sky')
    assert meta['classes'] == meta['thing_classes'] + meta['stuff_classes']


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    src = tmp_path_factory.mktemp('cityscapes') / 'cityscapes'
    expected = make_cityscapes_source(src, num_train=3, num_val=2, size=96,
                                      seed=1)
    out = convert_cityscapes(str(src), jobs=1)
    return src, expected, out


def test_round_trip_equals_the_drawing(converted):
    src, expected, out = converted
    assert set(out) == {'train', 'val'}
    raw = np.concatenate([
        np.asarray(Image.open(p)).ravel()
        for p in glob.glob(str(src / 'gtFine/*/*/*_instanceIds.png'))])
    # the data exercise every rule: crowd, ignored thing and stuff labels
    assert {24, 26, 29, 33, 9, 7, 21} <= set(
        np.where(raw < 1000, raw, raw // 1000).tolist())
    num_crowd = 0
    for split, (ann_file, seg_dir, num) in out.items():
        data = json.loads(open(ann_file).read())
        assert data['categories'] == [
            dict(id=c.id, name=c.name, color=list(c.color),
                 supercategory=c.category, isthing=int(c.has_instances))
            for c in __import__(
                'panoptic_zoo.datasets.convert.cityscapes_labels',
                fromlist=['EVALUATED']).EVALUATED]
        anns = {a['image_id']: a for a in data['annotations']}
        assert num == len(expected[split]) == len(anns)
        for want, want_ids in expected[split]:
            got = anns[want['image_id']]
            assert got == want
            ids, mode = read_png_ids(f'{seg_dir}/{got["file_name"]}')
            np.testing.assert_array_equal(ids, want_ids)
            num_crowd += sum(s['iscrowd'] for s in got['segments_info'])
        for image in data['images']:
            assert image['file_name'] == image['id'] + '_leftImg8bit.png'
    assert num_crowd >= 1


def test_output_passes_check_data_in_its_layout(converted):
    src = converted[0]
    splits = find_splits(str(src))
    assert [s.split for s in splits] == ['train', 'val']
    for s in splits:
        assert s.img_dir == str(src / 'leftImg8bit' / s.split)
        report = check_split(s.ann_file, s.seg_dir, s.img_dir)
        assert report.ok and not report.counts, report.text()


def test_missing_source_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='gtFine_trainvaltest.zip'):
        convert_cityscapes(str(tmp_path))
    assert not any(tmp_path.iterdir()) or not list(
        tmp_path.glob('gtFine/*.json'))


def test_image_names_of_the_official_script_resolve(converted):
    """createPanopticImgs names images ``*_gtFine_leftImg8bit.png``."""
    from panoptic_zoo.datasets.check import resolve_image
    src = converted[0]
    img_dir = str(src / 'leftImg8bit' / 'val')
    stem = converted[1]['val'][0][0]['image_id']
    want = f'{img_dir}/frankfurt/{stem}_leftImg8bit.png'
    assert resolve_image(img_dir, f'{stem}_leftImg8bit.png') == want
    assert resolve_image(img_dir, f'{stem}_gtFine_leftImg8bit.png') == want
    # a name that exists nowhere stays as given, for the error message
    assert resolve_image(img_dir, 'x_y.png') == f'{img_dir}/x_y.png'
