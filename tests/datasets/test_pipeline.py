"""The COCO panoptic loading path yields the right gt_instances/gt_sem_seg."""
import json

import numpy as np
import pytest
from mmcv.transforms import Compose
from PIL import Image

from panoptic_zoo.panoptic_png import id2rgb
from panoptic_zoo.registry import DATASETS

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPanopticAnnotations'),
    dict(type='PackDetInputs')
]


@pytest.fixture
def hand_dataset(tmp_path):
    """One 4x6 image: thing 'a' (id 10), a crowd of 'a' (id 30), stuff 'b'
    (id 20) and one VOID pixel."""
    ids = np.array([[0, 20, 20, 20, 20, 20],
                    [20, 10, 10, 10, 20, 20],
                    [20, 10, 10, 10, 20, 30],
                    [20, 20, 20, 20, 20, 30]])
    (tmp_path / 'img').mkdir()
    (tmp_path / 'pan').mkdir()
    Image.fromarray(np.full((4, 6, 3), 128, np.uint8)).save(
        tmp_path / 'img' / '1.jpg')
    Image.fromarray(id2rgb(ids)).save(tmp_path / 'pan' / '1.png')
    seg = [
        dict(id=10, category_id=1, iscrowd=0, bbox=[1, 1, 3, 2], area=6),
        dict(id=20, category_id=2, iscrowd=0, bbox=[0, 0, 6, 4], area=15),
        dict(id=30, category_id=1, iscrowd=1, bbox=[5, 2, 1, 2], area=2),
    ]
    ann = dict(
        images=[dict(id=1, file_name='1.jpg', height=4, width=6)],
        annotations=[dict(image_id=1, file_name='1.png', segments_info=seg)],
        categories=[
            dict(id=1, name='a', isthing=1, supercategory='a'),
            dict(id=2, name='b', isthing=0, supercategory='b')
        ])
    (tmp_path / 'pan.json').write_text(json.dumps(ann))
    return DATASETS.build(
        dict(
            type='CocoPanopticDataset',
            data_root=str(tmp_path),
            ann_file='pan.json',
            data_prefix=dict(img='img/', seg='pan/'),
            metainfo=dict(
                classes=('a', 'b'), thing_classes=('a', ), stuff_classes=(
                    'b', )),
            pipeline=PIPELINE))


def test_hand_checked_image(hand_dataset):
    sample = hand_dataset[0]['data_samples']
    # label 0 = thing 'a' (crowd included), 1 = stuff 'b', 255 = VOID
    expected_sem = np.array([[255, 1, 1, 1, 1, 1],
                             [1, 0, 0, 0, 1, 1],
                             [1, 0, 0, 0, 1, 0],
                             [1, 1, 1, 1, 1, 0]])
    np.testing.assert_array_equal(sample.gt_sem_seg.sem_seg[0].numpy(),
                                  expected_sem)
    gt = sample.gt_instances
    assert gt.labels.tolist() == [0]
    assert gt.bboxes.tensor.tolist() == [[1.0, 1.0, 4.0, 3.0]]
    expected_mask = np.zeros((4, 6), np.uint8)
    expected_mask[1:3, 1:4] = 1
    np.testing.assert_array_equal(gt.masks.to_ndarray()[0], expected_mask)
    # mmdet's panoptic loader keeps crowd regions only in gt_sem_seg: they
    # are neither instance targets nor ignored boxes.
    assert len(sample.ignored_instances) == 0


def test_synthetic_sample_matches_its_png(synthetic_root):
    dataset = DATASETS.build(
        dict(
            type='SyntheticPanopticDataset',
            data_root=synthetic_root,
            ann_file='annotations/panoptic_train2017.json',
            data_prefix=dict(
                img='train2017/', seg='annotations/panoptic_train2017/'),
            pipeline=[]))
    info = dataset.get_data_info(0)
    pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadPanopticAnnotations'),
        dict(type='PackDetInputs')
    ])
    sample = pipeline(dict(info))['data_samples']
    rgb = np.asarray(Image.open(info['seg_map_path']).convert('RGB'),
                     np.int64)
    ids = rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]
    expected = np.full(ids.shape, 255)
    things = []
    for seg in info['segments_info']:
        expected[ids == seg['id']] = seg['category']
        if seg['is_thing']:
            things.append((seg['category'], ids == seg['id']))
    np.testing.assert_array_equal(sample.gt_sem_seg.sem_seg[0].numpy(),
                                  expected)
    assert sample.gt_instances.labels.tolist() == [c for c, _ in things]
    np.testing.assert_array_equal(
        sample.gt_instances.masks.to_ndarray().astype(bool),
        np.stack([m for _, m in things]))
    assert all(c < 4 for c, _ in things)  # thing labels come first
