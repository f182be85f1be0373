"""Loading errors name the file and id; valid data loads as with mmdet."""
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmdet.datasets.transforms import \
    LoadPanopticAnnotations as MMDetLoadPanopticAnnotations
from PIL import Image

from panoptic_zoo.datasets import DataError
from panoptic_zoo.datasets.check import DataCheckError
from panoptic_zoo.registry import DATASETS, TRANSFORMS

PIPELINE = [dict(type='LoadImageFromFile'),
            dict(type='LoadPanopticAnnotations')]


def _dataset(broken, pipeline=PIPELINE, **kwargs):
    return DATASETS.build(dict(
        type='SyntheticPanopticDataset', data_root=str(broken.root),
        ann_file='annotations/panoptic_train2017.json',
        data_prefix=dict(img='train2017/',
                         seg='annotations/panoptic_train2017/'),
        pipeline=pipeline, test_mode=True, **kwargs))


def test_same_result_as_mmdet_on_valid_data(broken):
    ours = _dataset(broken)
    assert type(ours.pipeline.transforms[1]).__module__ == \
        'panoptic_zoo.datasets.strict_loading'
    mmdet_pipeline = Compose([TRANSFORMS.build(PIPELINE[0]),
                              MMDetLoadPanopticAnnotations()])
    for i in range(len(ours)):
        a = ours[i]
        b = mmdet_pipeline(ours.get_data_info(i))
        np.testing.assert_array_equal(a['gt_seg_map'], b['gt_seg_map'])
        np.testing.assert_array_equal(a['gt_masks'].masks,
                                      b['gt_masks'].masks)
        assert a['gt_bboxes'].tensor.tolist() == b['gt_bboxes'].tensor.tolist()


@pytest.mark.parametrize('damage,message', [
    ('missing', 'the panoptic PNG does not exist'),
    ('truncated', 'the panoptic PNG cannot be decoded'),
    ('resized', 'the PNG is 64x32 (HxW), its image'),
    ('extra id', 'the PNG has pixels of segment {extra}'),
    ('lost id', 'segment 123456 of segments_info has no pixel'),
])
def test_named_errors(broken, damage, message):
    extra = None
    if damage == 'missing':
        broken.png(0).unlink()
    elif damage == 'truncated':
        data = broken.png(0).read_bytes()
        broken.png(0).write_bytes(data[:len(data) // 3])
    elif damage == 'resized':
        Image.open(broken.png(0)).resize((32, 64)).save(broken.png(0))
    elif damage == 'extra id':
        extra = broken.ann(0)['segments_info'].pop()['id']
    else:
        broken.ann(0)['segments_info'].append(
            dict(broken.ann(0)['segments_info'][0], id=123456))
    broken.save()
    dataset = _dataset(broken)
    with pytest.raises(DataError) as info:
        dataset[0]
    text = str(info.value)
    assert text.startswith(f'{broken.png(0)} (image '
                           f'{broken.ann(0)["image_id"]!r}): ')
    assert message.format(extra=extra) in text
    assert 'panoptic-zoo check-data' in text


def test_labels_follow_metainfo_not_json_order(broken):
    cats = broken.data['categories']
    cats.reverse()  # stuff first, as JSONs listed by id can be
    broken.save()
    dataset = _dataset(broken, pipeline=[])
    names = dataset.metainfo['classes']
    by_id = {c['id']: c['name'] for c in cats}
    info = dataset.get_data_info(0)
    ann = broken.ann(0)
    for seg, raw in zip(info['segments_info'], ann['segments_info']):
        assert names[seg['category']] == by_id[raw['category_id']]


def test_unparsable_json_gives_the_report(broken):
    broken.ann(1)['segments_info'][0]['category_id'] = 99
    broken.save()
    with pytest.raises(DataCheckError) as info:
        _dataset(broken, pipeline=[])
    assert 'segment-unknown-category' in str(info.value)
    assert str(broken.ann_file) in str(info.value)
