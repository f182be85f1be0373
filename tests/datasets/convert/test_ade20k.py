"""convert ade20k: the ADE20K panoptic benchmark's rules, round-tripped on
the built-in shapes in the ADEChallengeData2016 layout."""
import json

import numpy as np
import pytest

from panoptic_zoo.datasets.check import check_split, find_splits
from panoptic_zoo.datasets.check.pixels import read_png_ids
from panoptic_zoo.datasets.convert import (ADE20K_PANOPTIC_METAINFO,
                                           convert_ade20k)
from panoptic_zoo.datasets.convert.ade20k import ade20k_segments
from panoptic_zoo.datasets.convert.ade20k_classes import (
    ADE20K_CATEGORIES, INSTANCE_TO_SEMANTIC)
from panoptic_zoo.datasets.synthetic_sources import make_ade20k_source


def test_classes_100_things_50_stuff():
    meta = ADE20K_PANOPTIC_METAINFO
    assert len(meta['thing_classes']) == 100
    assert len(meta['stuff_classes']) == 50
    # things are exactly the classes that have instances (the mapping file)
    assert {ADE20K_CATEGORIES[s - 1][0] for s in INSTANCE_TO_SEMANTIC.values()
            } == set(meta['thing_classes'])
    assert meta['stuff_classes'][:3] == ('wall', 'building', 'sky')
    assert meta['thing_classes'][:3] == ('bed', 'window ', 'cabinet')
    colors = [c[2] for c in ADE20K_CATEGORIES]
    assert len(set(colors)) == 150  # stuff ids are their colours


def test_rules_on_hand_made_maps():
    # wall | person instance 1 on a wall pixel | person without instance |
    # other (0) | road | skyscraper
    semantic = np.array([[1, 13, 13, 0, 7, 49]], dtype=np.uint8)
    instance = np.zeros((1, 6, 3), dtype=np.uint8)
    instance[0, 1] = (4, 1, 0)  # Instance100 class 4 = person
    ids, segments = ade20k_segments(semantic, instance, 'img')
    cats = {s['id']: s['category_id'] for s in segments}
    assert [cats.get(i) for i in ids[0].tolist()] == [0, 12, None, None, 6,
                                                      48]
    # stuff and a class's first instance take the class colour
    assert ids[0, [0, 1, 4, 5]].tolist() == [
        r + 256 * g + 65536 * b
        for r, g, b in (ADE20K_CATEGORIES[c][2] for c in (0, 12, 6, 48))]
    again, _ = ade20k_segments(semantic, instance, 'img')
    np.testing.assert_array_equal(ids, again)  # reproducible
    with pytest.raises(ValueError, match='semantic value 151'):
        ade20k_segments(np.array([[151]], np.uint8), instance[:, :1], 'img')
    instance[0, 2] = (9, 1, 0)  # one instance with two classes
    with pytest.raises(ValueError, match=r'instance 1 has .*\[4, 9\]'):
        ade20k_segments(semantic, instance, 'img')


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    src = tmp_path_factory.mktemp('ade') / 'ADEChallengeData2016'
    expected = make_ade20k_source(src, num_train=3, num_val=2, size=96,
                                  seed=1)
    return src, expected, convert_ade20k(str(src))


def _key(seg):
    return (seg['category_id'], seg['area'], tuple(seg['bbox']),
            seg['iscrowd'])


def test_round_trip_equals_the_drawing(converted):
    src, expected, out = converted
    for split, (ann_file, seg_dir, num) in out.items():
        data = json.loads(open(ann_file).read())
        assert [c['id'] for c in data['categories']] == list(range(150))
        anns = {a['image_id']: a for a in data['annotations']}
        assert num == len(anns) == len(expected[split])
        for stem, want, want_ids in expected[split]:
            got = anns[stem]
            assert sorted(map(_key, got['segments_info'])) == sorted(
                map(_key, want))
            ids, _ = read_png_ids(f'{seg_dir}/{got["file_name"]}')
            # same partition of the pixels, under the converter's ids
            to_want = {}
            for g, w in zip(ids.ravel().tolist(), want_ids.ravel().tolist()):
                assert to_want.setdefault(g, w) == w
            assert len(set(to_want.values())) == len(to_want)
            assert to_want.get(0, 0) == 0


def test_output_passes_check_data_in_its_layout(converted):
    src = converted[0]
    for s in find_splits(str(src)):
        assert s.img_dir == str(src / 'images' / dict(
            train='training', val='validation')[s.split])
        report = check_split(s.ann_file, s.seg_dir, s.img_dir)
        assert report.ok and not report.counts, report.text()
