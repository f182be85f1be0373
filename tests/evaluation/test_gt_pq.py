"""Ground truth given as the prediction scores PQ = 100."""
import numpy as np
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmengine.structures import PixelData

from panoptic_zoo.engine.picture_hook import gt_panoptic_map
from panoptic_zoo.registry import DATASETS, METRICS

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPanopticAnnotations'),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]


def _as_prediction(sample, num_classes):
    """mmdet's prediction encoding: void is ``num_classes``; crowd pixels
    (class only, no instance) stay a class-only region."""
    pan = gt_panoptic_map(sample)
    pan[pan == 255] = num_classes
    return PixelData(sem_seg=torch.from_numpy(pan)[None])


def test_ground_truth_as_prediction_is_perfect(synthetic_root):
    dataset = DATASETS.build(
        dict(
            type='SyntheticPanopticDataset',
            data_root=synthetic_root,
            ann_file='annotations/panoptic_val2017.json',
            data_prefix=dict(
                img='val2017/', seg='annotations/panoptic_val2017/'),
            test_mode=True,
            pipeline=PIPELINE))
    metric = METRICS.build(
        dict(
            type='CocoPanopticMetric',
            ann_file=f'{synthetic_root}/annotations/panoptic_val2017.json',
            seg_prefix=f'{synthetic_root}/annotations/panoptic_val2017/'))
    metric.dataset_meta = dataset.metainfo
    num_classes = len(dataset.metainfo['classes'])
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        pred = _as_prediction(sample, num_classes)
        metric.process({}, [dict(img_id=sample.img_id,
                                 ori_shape=sample.ori_shape,
                                 img_path=sample.img_path,
                                 pred_panoptic_seg=pred.to_dict())])
        assert (pred.sem_seg // INSTANCE_OFFSET).max() > 0  # has instances
    results = metric.evaluate(len(dataset))
    assert results['coco_panoptic/PQ'] == 100.0
    assert results['coco_panoptic/SQ'] == 100.0
    assert results['coco_panoptic/RQ'] == 100.0
    # ... and a damaged prediction does not.
    metric.results.clear()
    sample = dataset[0]['data_samples']
    pred = _as_prediction(sample, num_classes)
    pred.sem_seg[:] = num_classes  # all void
    metric.process({}, [dict(img_id=sample.img_id, ori_shape=sample.ori_shape,
                             img_path=sample.img_path,
                             pred_panoptic_seg=pred.to_dict())])
    assert metric.evaluate(1)['coco_panoptic/PQ'] < 100.0
    assert np.isfinite(results['coco_panoptic/PQ_th'])
