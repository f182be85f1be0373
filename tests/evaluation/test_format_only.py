import glob

import numpy as np
import pytest
import torch

from panoptic_zoo.datasets import SYNTHETIC_METAINFO
from panoptic_zoo.evaluation import PanopticQuality
from panoptic_zoo.evaluation.pq_files import (load_json, pq_compute,
                                              read_id_map)
from panoptic_zoo.visualization.show_data import gt_panoptic


def _gt_as_predictions(root):
    """The GT of every val image as mmdet panoptic predictions."""
    ann_file = f'{root}/annotations/panoptic_val2017.json'
    gt = load_json(ann_file, 'GT')
    names = list(SYNTHETIC_METAINFO['classes'])
    by_name = {c['name']: c for c in gt['categories']}
    label_of = {by_name[n]['id']: (i, bool(by_name[n]['isthing']))
                for i, n in enumerate(names)}
    samples = []
    for ann in gt['annotations']:
        ids = read_id_map(f'{root}/annotations/panoptic_val2017/'
                          f'{ann["file_name"]}').numpy().astype(np.int64)
        pan = gt_panoptic(ann['segments_info'], ids, label_of)
        samples.append(dict(img_id=ann['image_id'], pred_panoptic_seg=dict(
            sem_seg=torch.from_numpy(pan)[None])))
    return ann_file, samples


def test_format_only_writes_files_without_metrics(synthetic_root, tmp_path):
    ann_file, samples = _gt_as_predictions(synthetic_root)
    prefix = str(tmp_path / 'pred')
    metric = PanopticQuality(ann_file, f'{synthetic_root}/annotations/'
                             'panoptic_val2017/', format_only=True,
                             outfile_prefix=prefix)
    metric.dataset_meta = SYNTHETIC_METAINFO
    metric.process({}, samples[:3])
    metric.process({}, samples[3:])
    assert metric.evaluate(len(samples)) == {}
    assert len(glob.glob(f'{prefix}.panoptic/*.png')) == len(samples)
    res = pq_compute(ann_file, f'{prefix}.panoptic.json',
                     f'{synthetic_root}/annotations/panoptic_val2017',
                     f'{prefix}.panoptic')
    assert res['All']['pq'] == pytest.approx(1.0)  # the GT, written back


def test_format_only_needs_an_outfile_prefix(synthetic_root):
    with pytest.raises(ValueError, match='set outfile_prefix'):
        PanopticQuality(f'{synthetic_root}/annotations/panoptic_val2017.json',
                        'x', format_only=True)
