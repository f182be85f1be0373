"""check-data on the clean built-in data and on one corruption per case:
the exact problem kind, file, image id and segment id must be reported."""
import numpy as np
import pytest
from PIL import Image

from panoptic_zoo.datasets.check import KINDS, read_png_ids
from panoptic_zoo.datasets.check.problems import ERROR


def _only(report, kind):
    """The single error kind of ``report`` is ``kind``; its first example."""
    errors = {k for k in report.counts if KINDS[k][0] == ERROR}
    assert errors == {kind}, report.text()
    return report.first(kind)


def test_clean_dataset_passes(broken):
    report = broken.check(jobs=2)
    assert report.ok and not report.counts, report.text()
    assert report.num_images == 4
    assert report.num_segments == sum(
        len(a['segments_info']) for a in broken.data['annotations'])


def test_truncated_json(broken):
    text = broken.ann_file.read_text()
    broken.ann_file.write_text(text[:len(text) // 2])
    p = _only(broken.check(), 'json-unreadable')
    assert p.file == str(broken.ann_file) and 'not valid JSON' in p.detail


def test_missing_annotations_key(broken):
    del broken.data['annotations']
    broken.save()
    report = broken.check()
    assert report.first('json-structure').detail == "'annotations' is missing"
    # every image then lacks its annotation, named one by one
    assert report.counts['image-no-annotation'] == 4


def test_category_without_isthing(broken):
    del broken.data['categories'][2]['isthing']
    broken.save()
    report = broken.check()
    assert 'categories[2]' in report.first('category-field').detail
    # its segments now name an unknown category
    p = report.first('segment-unknown-category')
    assert p.file == str(broken.ann_file)


def test_duplicate_category_id(broken):
    broken.data['categories'][1]['id'] = broken.data['categories'][0]['id']
    broken.save()
    p = broken.check().first('category-duplicate-id')
    assert "'circle' and 'square'" in p.detail


def test_duplicate_image_id(broken):
    images = broken.data['images']
    first_id = images[0]['id']
    images[1]['id'] = first_id
    broken.data['annotations'][1]['image_id'] = first_id
    broken.save()
    report = broken.check()
    p = report.first('image-duplicate-id')
    assert p.image_id == first_id and images[1]['file_name'] in p.detail
    assert report.first('annotation-duplicate').image_id == first_id


def test_unknown_category(broken):
    seg = broken.ann(1)['segments_info'][0]
    seg['category_id'] = 99
    broken.save()
    p = _only(broken.check(), 'segment-unknown-category')
    assert (p.image_id, p.segment_id) == (broken.ann(1)['image_id'],
                                          seg['id'])
    assert 'category_id 99' in p.detail


def test_segment_absent_from_png(broken):
    ghost = dict(broken.ann(0)['segments_info'][0], id=123456)
    broken.ann(0)['segments_info'].append(ghost)
    broken.save()
    p = _only(broken.check(), 'json-id-not-in-png')
    assert (p.file, p.image_id, p.segment_id) == (
        str(broken.png(0)), broken.ann(0)['image_id'], 123456)


def test_png_id_absent_from_json(broken):
    dropped = broken.ann(2)['segments_info'].pop()
    broken.save()
    p = _only(broken.check(), 'png-id-not-in-json')
    assert (p.file, p.image_id, p.segment_id) == (
        str(broken.png(2)), broken.ann(2)['image_id'], dropped['id'])
    assert p.detail.startswith(f'{dropped["area"]} pixels in box '
                               f'{dropped["bbox"]}')


def test_duplicate_segment_id_with_other_category(broken):
    segs = broken.ann(0)['segments_info']
    twin = dict(segs[-1], category_id=segs[0]['category_id'])
    segs.append(twin)
    broken.save()
    p = _only(broken.check(), 'segment-duplicate-id')
    assert (p.image_id, p.segment_id) == (broken.ann(0)['image_id'],
                                          twin['id'])
    assert p.detail.startswith('2 segments')


@pytest.mark.parametrize('field,value,kind', [
    ('area', 1, 'area-mismatch'),
    ('bbox', [0, 0, 1, 1], 'bbox-mismatch'),
])
def test_area_and_bbox_against_png(broken, field, value, kind):
    seg = broken.ann(3)['segments_info'][1]
    seg[field] = value
    broken.save()
    p = _only(broken.check(), kind)
    assert (p.file, p.image_id, p.segment_id) == (
        str(broken.png(3)), broken.ann(3)['image_id'], seg['id'])


def test_missing_and_truncated_image(broken):
    broken.image(0).unlink()
    data = broken.image(1).read_bytes()
    broken.image(1).write_bytes(data[:len(data) // 2])
    report = broken.check(jobs=2)
    assert set(report.counts) == {'image-missing', 'image-unreadable'}
    assert report.first('image-missing').file == str(broken.image(0))
    p = report.first('image-unreadable')
    assert (p.file, p.image_id) == (str(broken.image(1)),
                                    broken.data['images'][1]['id'])


def test_missing_and_truncated_png(broken):
    broken.png(0).unlink()
    data = broken.png(1).read_bytes()
    broken.png(1).write_bytes(data[:len(data) // 2])
    report = broken.check()
    assert set(report.counts) == {'png-missing', 'png-unreadable'}
    assert report.first('png-missing').file == str(broken.png(0))
    assert report.first('png-unreadable').file == str(broken.png(1))


def test_png_of_other_size(broken):
    Image.open(broken.png(2)).resize((32, 64), Image.NEAREST).save(
        broken.png(2))
    p = _only(broken.check(), 'png-size')
    assert p.file == str(broken.png(2))
    assert 'the PNG is 64x32 (HxW), the image 64x64' in p.detail


def test_json_size_differs_from_image(broken):
    broken.data['images'][3]['height'] = 65
    broken.save()
    p = _only(broken.check(), 'image-size')
    assert (p.file, p.image_id) == (str(broken.image(3)),
                                    broken.data['images'][3]['id'])


def test_empty_image_is_a_warning(broken):
    broken.ann(1)['segments_info'] = []
    broken.save()
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(broken.png(1))
    report = broken.check()
    assert report.ok and set(report.counts) == {'image-empty'}
    assert report.first('image-empty').image_id == broken.ann(1)['image_id']


def test_segment_id_without_rgb_colour(broken):
    seg = broken.ann(0)['segments_info'][0]
    seg['id'] += 1 << 24  # same colour as the original id
    broken.save()
    report = broken.check()
    p = report.first('segment-id-range')
    assert (p.image_id, p.segment_id) == (broken.ann(0)['image_id'],
                                          seg['id'])


def test_png_written_bgr(broken):
    rgb = np.asarray(Image.open(broken.png(0)).convert('RGB'))
    Image.fromarray(np.ascontiguousarray(rgb[..., ::-1])).save(broken.png(0))
    p = _only(broken.check(), 'png-bgr')
    assert p.file == str(broken.png(0))


def test_image_without_annotation_and_annotation_without_image(broken):
    lost = broken.data['annotations'].pop(0)
    broken.data['annotations'][0]['image_id'] = 777
    broken.save()
    report = broken.check()
    assert {p.image_id for p in report.examples['image-no-annotation']} == {
        lost['image_id'], broken.data['images'][1]['id']}
    assert report.first('annotation-unknown-image').image_id == 777


def test_classes_against_metainfo(broken):
    from panoptic_zoo.datasets.synthetic import SYNTHETIC_METAINFO
    meta = dict(SYNTHETIC_METAINFO)
    assert broken.check(pixels=False, metainfo=meta).ok
    renamed = dict(meta, classes=('disc',) + meta['classes'][1:])
    p = broken.check(pixels=False, metainfo=renamed).first(
        'class-not-in-json')
    assert "'disc'" in p.detail
    swapped = dict(meta, thing_classes=meta['thing_classes'][:3])
    p = broken.check(pixels=False, metainfo=swapped).first(
        'class-thing-mismatch')
    assert "'cross'" in p.detail
    cats = broken.data['categories']
    cats[0], cats[4] = cats[4], cats[0]
    broken.save()
    p = broken.check(pixels=False, metainfo=meta,
                     order_matters=True).first('class-order')
    assert "label 0 would be 'grass'" in p.detail
    assert broken.check(pixels=False, metainfo=meta).ok


def test_png_reader_matches_panopticapi_formula(broken):
    ids, mode = read_png_ids(str(broken.png(0)))
    rgb = np.asarray(Image.open(broken.png(0)), dtype=np.int64)
    assert mode == 'RGB'
    np.testing.assert_array_equal(
        ids, rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2])
