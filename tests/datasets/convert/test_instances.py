"""convert coco-instances: overlap policies on hand-made masks, and a round
trip of the built-in data through its own instances JSON + stuff PNGs."""
import json

import numpy as np
import pytest
from PIL import Image

from panoptic_zoo.datasets.check import check_split
from panoptic_zoo.datasets.check.pixels import read_png_ids
from panoptic_zoo.datasets.convert import OverlapError, convert_instances
from panoptic_zoo.datasets.convert.instances import paint_instances


def _box(x0, y0, x1, y1):
    """A polygon covering pixel columns x0..x1-1 and rows y0..y1-1."""
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


# annotation 1: 6x6 square at (0, 0); annotation 2: 3x3 square at (4, 4);
# they share the 2x2 pixels (4..5, 4..5)
ANNS = [dict(id=1, segmentation=_box(0, 0, 6, 6)),
        dict(id=2, segmentation=_box(4, 4, 7, 7))]


@pytest.mark.parametrize('policy,owner', [('continue', 0), ('overwrite', 1),
                                          ('smaller-on-top', 1)])
def test_overlap_policies(policy, owner):
    index, lost = paint_instances(ANNS, 8, 8, policy, 'img')
    assert lost == 0
    assert (index[4:6, 4:6] == owner).all()
    assert (index[0:4, 0:4] == 0).all() and (index[6, 6] == 1)
    assert (index[7] == -1).all()


def test_smaller_on_top_ignores_json_order():
    index, _ = paint_instances(ANNS[::-1], 8, 8, 'smaller-on-top', 'img')
    assert (index[4:6, 4:6] == 0).all()  # the small one, listed first


def test_fail_names_image_annotations_and_pixels():
    with pytest.raises(OverlapError, match=r"image 'img': annotations 1 "
                       r'and 2 share 4 pixels'):
        paint_instances(ANNS, 8, 8, 'fail', 'img')


def test_continue_drops_a_hidden_instance():
    anns = [ANNS[0], dict(id=3, segmentation=_box(1, 1, 3, 3))]
    index, lost = paint_instances(anns, 8, 8, 'continue', 'img')
    assert lost == 1 and set(np.unique(index).tolist()) == {-1, 0}


@pytest.fixture
def own_data(synthetic_root, tmp_path):
    """The built-in val split as a user would label it: the instances JSON
    (things, RLE) plus one stuff PNG of category ids per image."""
    root = synthetic_root
    pan = json.load(open(f'{root}/annotations/panoptic_val2017.json'))
    ins = json.load(open(f'{root}/annotations/instances_val2017.json'))
    ins['categories'] += [dict(id=c['id'], name=c['name'], isthing=0)
                          for c in pan['categories'] if not c['isthing']]
    things = {c['id'] for c in pan['categories'] if c['isthing']}
    sem_dir = tmp_path / 'semantic'
    sem_dir.mkdir()
    for ann in pan['annotations']:
        ids, _ = read_png_ids(
            f'{root}/annotations/panoptic_val2017/{ann["file_name"]}')
        sem = np.zeros(ids.shape, np.uint8)
        for seg in ann['segments_info']:
            if seg['category_id'] not in things:
                sem[ids == seg['id']] = seg['category_id']
        Image.fromarray(sem).save(sem_dir / ann['file_name'])
    ann_file = tmp_path / 'instances_val2017.json'
    ann_file.write_text(json.dumps(ins))
    return pan, ann_file, sem_dir


def test_round_trip_of_the_built_in_data(own_data, synthetic_root, tmp_path):
    pan, ann_file, sem_dir = own_data
    out = convert_instances(str(ann_file), str(tmp_path / 'out'),
                            f'{synthetic_root}/val2017', str(sem_dir))
    assert out['num_dropped'] == 0
    assert out['ann_file'].endswith('panoptic_val2017.json')
    got = {a['image_id']: a for a in json.load(open(out['ann_file']))
           ['annotations']}
    key = lambda s: (s['category_id'], s['area'], tuple(s['bbox']),  # noqa
                     s['iscrowd'])
    for want in pan['annotations']:
        assert sorted(map(key, got[want['image_id']]['segments_info'])) == \
            sorted(map(key, want['segments_info']))
    report = check_split(out['ann_file'], out['seg_dir'],
                         f'{synthetic_root}/val2017')
    assert report.ok and not report.counts


def test_stuff_value_not_a_category_is_named(own_data, synthetic_root,
                                             tmp_path):
    pan, ann_file, sem_dir = own_data
    first = sem_dir / pan['annotations'][0]['file_name']
    sem = np.asarray(Image.open(first)).copy()
    sem[0, 0] = 42
    Image.fromarray(sem).save(first)
    with pytest.raises(ValueError, match=f'{first}: value 42 is not a '):
        convert_instances(str(ann_file), str(tmp_path / 'out'),
                          f'{synthetic_root}/val2017', str(sem_dir))
    assert not (tmp_path / 'out' / 'panoptic_val2017.json').exists()
    assert list((tmp_path / 'out').iterdir()) == []  # nothing half-written
