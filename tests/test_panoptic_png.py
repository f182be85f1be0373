import numpy as np
import pytest
from mmdet.evaluation.functional import INSTANCE_OFFSET as MMDET_OFFSET

from panoptic_zoo.panoptic_png import (INSTANCE_OFFSET, coco_segments_info,
                                       id2rgb, rgb2id, segments_of)


def test_offset_is_mmdets():
    assert INSTANCE_OFFSET == MMDET_OFFSET


def test_id2rgb_rgb2id_are_panopticapis():
    ids = np.array([[0, 1, 255, 256], [65535, 65536, 16777215, 12345678]])
    rgb = id2rgb(ids)
    assert rgb.dtype == np.uint8
    # panopticapi: id = R + 256 G + 256^2 B
    assert rgb[1, 3].tolist() == [12345678 % 256, 12345678 // 256 % 256,
                                  12345678 // 65536]
    assert rgb[0, 3].tolist() == [0, 1, 0]
    np.testing.assert_array_equal(rgb2id(rgb), ids)
    assert rgb2id((78, 97, 188)) == 78 + 256 * 97 + 65536 * 188
    with pytest.raises(ValueError, match='256'):
        id2rgb(np.array([256**3]))


def test_segments_of_crafted_map():
    void = 7
    pan = np.array([[4, 4, 4, void],
                    [4, 0 + INSTANCE_OFFSET, 0 + INSTANCE_OFFSET, void],
                    [4, 2 + 2 * INSTANCE_OFFSET, 0 + INSTANCE_OFFSET, 0]])
    ids, segs = segments_of(pan, num_classes=7, instance_scores=[0.9, 0.4])
    assert ids[0, 3] == 0 and ids[1, 3] == 0  # void -> VOID
    by_id = {s['id']: s for s in segs}
    assert sorted(by_id) == [1, 5, 1001, 2003]  # value + 1
    assert by_id[5] == dict(id=5, label=4, instance_id=0, area=5,
                            bbox=[0, 0, 3, 3], score=None)
    assert by_id[1001] == dict(id=1001, label=0, instance_id=1, area=3,
                               bbox=[1, 1, 2, 2], score=0.9)
    assert by_id[2003]['score'] == 0.4 and by_id[2003]['label'] == 2
    # label 0 without instance id (value 0) is a segment, not VOID
    assert by_id[1]['area'] == 1 and ids[2, 3] == 1
    info = coco_segments_info(segs, [11, 12, 13, 14, 15, 16, 17])
    assert {s['id']: s['category_id'] for s in info} == {
        1: 11, 5: 15, 1001: 11, 2003: 13}
