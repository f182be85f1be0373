"""PanopticQuality metric: in memory, equal to panopticapi on the files it
writes, mergeable across ranks."""
import contextlib
import io
import json

import numpy as np
import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from panopticapi.evaluation import pq_compute

from panoptic_zoo.datasets.synthetic import SYNTHETIC_METAINFO
from panoptic_zoo.evaluation.pq_benchmark import perturb_prediction
from panoptic_zoo.evaluation import panoptic_quality
from panoptic_zoo.evaluation.pq_files import read_id_map
from panoptic_zoo.registry import METRICS

NUM_CLASSES = len(SYNTHETIC_METAINFO['classes'])


def _gt(root, split='train'):
    ann = f'{root}/annotations/panoptic_{split}2017'
    with open(f'{ann}.json') as f:
        gt_json = json.load(f)
    return ann, gt_json


def _encode(id_map, segments, categories, void_value=NUM_CLASSES):
    """COCO ids + segments -> mmdet's ``label + inst * INSTANCE_OFFSET``
    map of shape ``(1, H, W)``; id 0 becomes ``void_value``."""
    name_of = {c['id']: c['name'] for c in categories}
    out = torch.full(id_map.shape, void_value, dtype=torch.int64)
    for inst, seg in enumerate(segments, 1):
        label = SYNTHETIC_METAINFO['classes'].index(
            name_of[seg['category_id']])
        out[id_map == seg['id']] = label + inst * INSTANCE_OFFSET
    return out[None]


def _samples(root, seed, split='train'):
    """Perturbed predictions of a split as mmdet data samples (dicts)."""
    ann, gt_json = _gt(root, split)
    rng = np.random.default_rng(seed)
    samples = []
    for a in gt_json['annotations']:
        gt_map = read_id_map(f'{ann}/{a["file_name"]}')
        pred, segs = perturb_prediction(rng, gt_map.numpy(),
                                        a['segments_info'],
                                        gt_json['categories'])
        # Void pixels sometimes carry an instance id, as mmdet's can.
        void = NUM_CLASSES + (len(samples) % 2) * 5 * INSTANCE_OFFSET
        sem_seg = _encode(
            torch.from_numpy(pred), segs, gt_json['categories'], void)
        samples.append(
            dict(
                img_id=a['image_id'], pred_panoptic_seg=dict(sem_seg=sem_seg)))
    return samples


def _metric(root, split='train', meta=SYNTHETIC_METAINFO, **kwargs):
    ann, _ = _gt(root, split)
    metric = METRICS.build(
        dict(
            type='PanopticQuality',
            ann_file=f'{ann}.json',
            seg_prefix=ann,
            **kwargs))
    metric.dataset_meta = meta
    return metric


def test_equals_pq_compute_on_the_files_it_writes(synthetic_root, tmp_path):
    metric = _metric(synthetic_root, outfile_prefix=str(tmp_path / 'pred'))
    samples = _samples(synthetic_root, seed=5)
    for i in range(0, len(samples), 4):
        metric.process({}, samples[i:i + 4])
    ours = metric.evaluate(len(samples))
    ann, _ = _gt(synthetic_root)
    with contextlib.redirect_stdout(io.StringIO()):
        ref = pq_compute(f'{ann}.json', str(tmp_path / 'pred.panoptic.json'),
                         ann, str(tmp_path / 'pred.panoptic'))
    for name, suffix in (('All', ''), ('Things', '_th'), ('Stuff', '_st')):
        for key in ('pq', 'sq', 'rq'):
            assert ours[f'coco_panoptic/{key.upper()}{suffix}'] == \
                100 * ref[name][key]
    assert 0 < ours['coco_panoptic/PQ'] < 100


def test_states_merge_across_ranks(synthetic_root):
    samples = _samples(synthetic_root, seed=6)
    whole = _metric(synthetic_root)
    whole.process({}, samples)
    ranks = [_metric(synthetic_root) for _ in range(2)]
    for i, sample in enumerate(samples):  # a distributed sampler's split
        ranks[i % 2].process({}, [sample])
    merged = ranks[0].results + ranks[1].results  # as MMEngine gathers
    assert whole.compute_metrics(whole.results) == \
        ranks[0].compute_metrics(merged)


def test_sampler_padding_counts_once(synthetic_root, monkeypatch):
    """5 images on 2 ranks as MMEngine's samplers deal them: rank 1's last
    round is padded with image 0 (here a different prediction of it, as a
    batch of other images can give), or not padded: each image counts
    once, at its own place, and the numbers are one process's."""
    samples = _samples(synthetic_root, seed=7)[:5]
    whole = _metric(synthetic_root)
    whole.process({}, samples)
    expected = whole.evaluate(5)
    copy = _samples(synthetic_root, seed=8)[0]
    wrong = _metric(synthetic_root)
    wrong.process({}, [copy] + samples[1:])
    assert wrong.evaluate(5) != expected  # keeping the copy would show
    for padding in ([copy], []):
        ranks = [_metric(synthetic_root) for _ in range(2)]
        for i, sample in enumerate(samples):
            ranks[i % 2].process({}, [sample])
        ranks[1].process({}, padding)
        parts = [list(r.results) for r in ranks]
        monkeypatch.setattr(panoptic_quality, 'all_gather_object',
                            lambda results: parts)
        assert ranks[0].evaluate(5) == expected
    metric = _metric(synthetic_root)
    metric.process({}, samples + samples[:1])  # image id listed twice
    with pytest.raises(
            ValueError, match='6 images of the dataset have 5 '
            'distinct img_id'):
        metric.evaluate(6)


def test_ground_truth_as_prediction_is_perfect(synthetic_root):
    ann, gt_json = _gt(synthetic_root, 'val')
    metric = _metric(synthetic_root, 'val', classwise=False)
    for a in gt_json['annotations']:
        gt_map = read_id_map(f'{ann}/{a["file_name"]}')
        metric.process({}, [
            dict(
                img_id=a['image_id'],
                pred_panoptic_seg=dict(
                    sem_seg=_encode(gt_map, a['segments_info'],
                                    gt_json['categories'])))
        ])
    results = metric.evaluate(len(gt_json['annotations']))
    assert results['coco_panoptic/PQ'] == 100.0
    assert results['coco_panoptic/PQ_st'] == 100.0


def test_bad_configuration(synthetic_root):
    with pytest.raises(ValueError, match='needs ann_file'):
        METRICS.build(
            dict(type='PanopticQuality', ann_file=None, seg_prefix='x'))
    meta = dict(
        SYNTHETIC_METAINFO,
        thing_classes=SYNTHETIC_METAINFO['thing_classes'][1:])
    metric = _metric(synthetic_root, meta=meta)
    with pytest.raises(
            ValueError, match="class 'circle': dataset_meta says stuff"):
        metric.process({}, _samples(synthetic_root, 0)[:1])
    metric = _metric(
        synthetic_root, meta=dict(SYNTHETIC_METAINFO, classes=('dog', )))
    with pytest.raises(ValueError, match="class 'dog' of dataset_meta"):
        metric.process({}, _samples(synthetic_root, 0)[:1])
    metric = _metric(synthetic_root)
    sample = _samples(synthetic_root, 0)[0]
    sample['pred_panoptic_seg']['sem_seg'] = \
        sample['pred_panoptic_seg']['sem_seg'][:, :-1]
    with pytest.raises(ValueError, match=r'the prediction is \(127, 128\)'):
        metric.process({}, [sample])


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_gpu_predictions_equal_cpu(synthetic_root):
    samples = _samples(synthetic_root, seed=8)
    on_cpu, on_gpu = _metric(synthetic_root), _metric(synthetic_root)
    on_cpu.process({}, samples)
    for s in samples:
        s['pred_panoptic_seg']['sem_seg'] = \
            s['pred_panoptic_seg']['sem_seg'].cuda()
    on_gpu.process({}, samples)
    assert on_cpu.evaluate(len(samples)) == on_gpu.evaluate(len(samples))
