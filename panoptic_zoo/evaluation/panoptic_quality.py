"""In-memory panoptic quality metric, equal to panopticapi's numbers."""
import json
import multiprocessing
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmengine.dist import all_gather_object, broadcast_object_list
from mmengine.dist import is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from PIL import Image
from terminaltables import AsciiTable
from torch import Tensor

from panoptic_zoo.ops import pq as pq_ops
from panoptic_zoo.registry import METRICS
from .pq_files import load_json, read_id_map, segment_table


@METRICS.register_module()
class PanopticQuality(BaseMetric):
    """Panoptic quality (Kirillov et al., CVPR 2019) of model outputs, in
    memory: no PNG round trip for the predictions.

    A drop-in for mmdet's ``CocoPanopticMetric`` (same result keys), whose
    numbers equal panopticapi's ``pq_compute`` on the same predictions to
    the bit (see :mod:`panoptic_zoo.ops.pq`). Each image is matched in
    ``process`` (on the prediction's device, a GPU included) and only its
    per-segment outcome is kept, so ``self.results`` is small;
    ``evaluate`` gathers the ranks' records, counts each image once, and
    ``compute_metrics`` adds the images in the GT JSON's order, so any
    number of processes gives the one-process result to the bit.

    Predictions are mmdet's encoding: ``pred_panoptic_seg.sem_seg`` of
    shape ``(1, H, W)`` holds ``label + instance_id * INSTANCE_OFFSET``,
    and ``label == num_classes`` (or the ``ignore_index`` it carries) is
    void. Label ``i`` is category ``dataset_meta['classes'][i]``, found by
    name in the GT JSON; things and stuff are ``dataset_meta``'s
    ``thing_classes`` / ``stuff_classes`` and must agree with the JSON's
    ``isthing``.

    Args:
        ann_file (str): COCO panoptic GT JSON, read once.
        seg_prefix (str): Folder of the GT panoptic PNGs.
        classwise (bool): Log the per-class table. Defaults to True.
        outfile_prefix (str, optional): Also write the predictions for
            submission: ``{outfile_prefix}.panoptic/*.png`` and
            ``{outfile_prefix}.panoptic.json``. Defaults to None.
        num_chunks (int, optional): Image chunks summed separately, as
            ``pq_compute``'s workers; default: the CPU count, as it.
        collect_device (str): MMEngine's argument, kept for configs:
            ``evaluate`` gathers the (small) records through the process
            group whatever it says. Defaults to ``'cpu'``.
        prefix (str, optional): Key prefix; defaults to ``coco_panoptic``.
    """
    default_prefix: Optional[str] = 'coco_panoptic'

    def __init__(self,
                 ann_file: str,
                 seg_prefix: str,
                 *,
                 classwise: bool = True,
                 outfile_prefix: Optional[str] = None,
                 num_chunks: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not ann_file or not seg_prefix:
            raise ValueError('PanopticQuality needs ann_file (the GT '
                             'panoptic JSON) and seg_prefix (its PNG '
                             f'folder), got {ann_file!r} and {seg_prefix!r}')
        gt_json = load_json(ann_file, 'GT JSON')
        self.ann_file, self.seg_prefix = ann_file, seg_prefix
        # panopticapi reads the categories as a dict keyed by id.
        self.categories = list({c['id']: c
                                for c in gt_json['categories']}.values())
        self.gt_anns = {a['image_id']: a for a in gt_json['annotations']}
        self.gt_order = {
            a['image_id']: i
            for i, a in enumerate(gt_json['annotations'])
        }
        self.classwise = classwise
        self.outfile_prefix = outfile_prefix
        self.num_chunks = num_chunks or multiprocessing.cpu_count()
        self._label_table: Optional[Tensor] = None

    def _labels(self) -> Tensor:
        """``(num_classes + 1,)`` category index of each mmdet label; the
        void label maps to -1. Checked against the JSON once."""
        if self._label_table is not None:
            return self._label_table
        meta = self.dataset_meta or {}
        if 'classes' not in meta:
            raise ValueError('PanopticQuality needs dataset_meta with '
                             "'classes', 'thing_classes', 'stuff_classes'")
        by_name = {c['name']: i for i, c in enumerate(self.categories)}
        things = set(meta.get('thing_classes', ()))
        table = []
        for name in meta['classes']:
            if name not in by_name:
                raise ValueError(f'class {name!r} of dataset_meta is not a '
                                 f'category of {self.ann_file}')
            cat = self.categories[by_name[name]]
            if (cat['isthing'] == 1) != (name in things):
                raise ValueError(
                    f'class {name!r}: dataset_meta says '
                    f'{"thing" if name in things else "stuff"}, '
                    f'{self.ann_file} says isthing={cat["isthing"]}')
            table.append(by_name[name])
        self._label_table = torch.tensor(table + [-1], dtype=torch.int64)
        return self._label_table

    def _prediction(self, pred: dict) -> tuple:
        """Ids and category indices of one mmdet panoptic prediction.

        Void values are listed as segments of label -1 rather than
        rewritten to 0: such a segment is never matched nor a FP, which is
        exactly how panopticapi treats void pixels, and the map is left
        untouched.
        """
        pan = pred['sem_seg'][0]
        num_classes = len(self._labels()) - 1
        ids = _unique(pan)
        sem = ids % INSTANCE_OFFSET
        void = (sem >= num_classes) | (
            sem == pred.get('ignore_index', num_classes))
        labels = self._labels().to(ids.device)[sem.clamp(max=num_classes)]
        return pan, ids, torch.where(void, -1, labels)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Match the predictions of a batch against their GT.

        Args:
            data_batch (dict): Unused.
            data_samples (Sequence[dict]): mmdet data samples as dicts with
                ``img_id`` and ``pred_panoptic_seg`` (``sem_seg`` of
                ``(1, H, W)``).
        """
        maps, gt_maps, pred_rows, gt_segments, img_ids = [], [], [], [], []
        label_of = {c['id']: i for i, c in enumerate(self.categories)}
        for sample in data_samples:
            img_id = sample['img_id']
            if img_id not in self.gt_anns:
                raise KeyError(f'image {img_id} is not in {self.ann_file}')
            pan, ids, labels = self._prediction(sample['pred_panoptic_seg'])
            ann = self.gt_anns[img_id]
            path = osp.join(self.seg_prefix, ann['file_name'])
            gt_map = read_id_map(path).to(pan.device)
            if gt_map.shape != pan.shape:
                raise ValueError(
                    f'image {img_id}: the prediction is '
                    f'{tuple(pan.shape)}, the GT {path} {tuple(gt_map.shape)}')
            maps.append(pan)
            gt_maps.append(gt_map)
            pred_rows.append((ids, labels))
            gt_segments.append(ann['segments_info'])
            img_ids.append(img_id)
        if not img_ids:
            return
        device = maps[0].device
        gt = segment_table(gt_segments, label_of).to(device)
        pred = _pred_table(pred_rows, device)
        counts = pq_ops.confusion(gt_maps, maps, gt, pred)
        matches = pq_ops.match_segments(counts, gt, pred).cpu()
        for b, img_id in enumerate(img_ids):
            # A plain dict: MMEngine's gathering rebuilds tuples as tuples.
            record = dict(
                img_id=img_id, matches=matches.images(b, b + 1)._asdict())
            if self.outfile_prefix is not None:
                record['segments_info'] = self._write_png(
                    img_id, maps[b], *pred_rows[b])
            self.results.append(record)

    def _write_png(self, img_id, pan: Tensor, ids: Tensor,
                   labels: Tensor) -> List[dict]:
        """Write one prediction as a COCO panoptic PNG.

        A segment's id is its encoded value + 1, so that a label-0 segment
        without instance id (value 0) is not taken for VOID (0).
        """
        folder = f'{self.outfile_prefix}.panoptic'
        os.makedirs(folder, exist_ok=True)
        keep = labels >= 0
        lut = torch.zeros(
            int(ids.max()) + 1, dtype=torch.int64, device=pan.device)
        lut[ids[keep]] = ids[keep] + 1
        png = lut[pan].cpu().numpy()
        rgb = np.stack([png % 256, png // 256 % 256, png // 65536], -1)
        Image.fromarray(rgb.astype(np.uint8)).save(
            osp.join(folder, self.gt_anns[img_id]['file_name']))
        areas = torch.bincount(pan.flatten().cpu(), minlength=len(lut))
        return [
            dict(
                id=int(i) + 1,
                category_id=self.categories[int(lb)]['id'],
                area=int(areas[i]))
            for i, lb in zip(ids[keep].tolist(), labels[keep].tolist())
        ]

    def evaluate(self, size: int) -> Dict[str, float]:
        """Merge every rank's records and compute the metrics on rank 0.

        The records are gathered through the process group (MMEngine's
        ``collect_results`` on ``'cpu'`` goes through a temporary folder
        that all machines must share) and each image counts once, at its
        first place in the sampler's order: samplers that round the last
        round up repeat images from the start, and a repeated image is
        dropped by its id rather than by its position.

        Args:
            size (int): Number of images of the dataset.
        """
        records = _first_of_each_image(all_gather_object(self.results))
        self.results.clear()  # one process: the gathered list is this one
        if len(records) != size:
            raise ValueError(
                f'PanopticQuality: the {size} images of the dataset have '
                f'{len(records)} distinct img_id values; each image id must '
                f'appear once in the dataset ({self.ann_file})')
        metrics = [None]
        if is_main_process():
            metrics = [{
                (f'{self.prefix}/{k}' if self.prefix else k): v
                for k, v in self.compute_metrics(records).items()
            }]
        broadcast_object_list(metrics)
        return metrics[0]

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Add up the images in the GT JSON's order and report PQ.

        Returns:
            dict[str, float]: ``PQ``, ``SQ``, ``RQ`` and their ``_th`` /
            ``_st`` variants, in percent (mmdet's keys).
        """
        logger = MMLogger.get_current_instance()
        results = sorted(results, key=lambda r: self.gt_order[r['img_id']])
        matches = pq_ops.PQMatches.cat(
            [pq_ops.PQMatches(**r['matches']) for r in results])
        stat = pq_ops.accumulate(matches, len(self.categories),
                                 self.num_chunks)
        res = pq_ops.pq_results(stat, self.categories)
        if self.outfile_prefix is not None:
            self._write_json(results)
        self._log_tables(res, logger)
        out = {}
        for name, suffix in (('All', ''), ('Things', '_th'), ('Stuff', '_st')):
            for key in ('pq', 'sq', 'rq'):
                out[key.upper() + suffix] = 100 * res[name][key]
        return out

    def _write_json(self, results: list) -> None:
        anns = [
            dict(
                image_id=r['img_id'],
                file_name=self.gt_anns[r['img_id']]['file_name'],
                segments_info=r['segments_info']) for r in results
        ]
        with open(f'{self.outfile_prefix}.panoptic.json', 'w') as f:
            json.dump(dict(annotations=anns, categories=self.categories), f)

    def _log_tables(self, res: dict, logger: MMLogger) -> None:
        rows = [['', 'PQ', 'SQ', 'RQ', 'categories']]
        for name in ('All', 'Things', 'Stuff'):
            rows.append(
                [name] +
                [f'{100 * res[name][k]:0.3f}'
                 for k in ('pq', 'sq', 'rq')] + [res[name]['n']])
        print_log(
            'Panoptic Evaluation Results:\n' + AsciiTable(rows).table,
            logger=logger)
        if not self.classwise:
            return
        rows = [['category', 'PQ', 'SQ', 'RQ']]
        for cat in self.categories:
            r = res['per_class'][cat['id']]
            rows.append([cat['name']] +
                        [f'{100 * r[k]:0.3f}' for k in ('pq', 'sq', 'rq')])
        print_log(
            'Classwise Panoptic Evaluation Results:\n' +
            AsciiTable(rows).table,
            logger=logger)


def _first_of_each_image(parts: List[list]) -> list:
    """One record per image from the ranks' lists, in the sampler's order.

    Rank ``r``'s ``i``-th record is the sampler's item ``i * world + r``
    (MMEngine's samplers deal the indices out round-robin), so reading the
    lists in that order finds each image's original place before any
    padding copy of it.
    """
    seen, out = set(), []
    for i in range(max(map(len, parts), default=0)):
        for part in parts:
            if i < len(part) and part[i]['img_id'] not in seen:
                seen.add(part[i]['img_id'])
                out.append(part[i])
    return out


def _unique(pan: Tensor) -> Tensor:
    """Sorted distinct values of a map: on a CPU a ``bincount`` over the
    (small) range of mmdet's encoding is ~20x faster than a sort."""
    if pan.device.type == 'cpu' and pan.numel():
        low, high = (int(v) for v in torch.aminmax(pan))
        if low >= 0 and high < (1 << 22):
            return torch.bincount(pan.flatten()).nonzero()[:, 0]
    return torch.unique(pan)


def _pred_table(rows: Sequence[tuple],
                device: torch.device) -> pq_ops.SegmentTable:
    """A :class:`SegmentTable` from per-image ``(ids, labels)`` tensors."""
    width = max([1] + [len(ids) for ids, _ in rows])
    shape = (len(rows), width)
    ids = torch.full(shape, torch.iinfo(torch.int64).max, device=device)
    labels = torch.full(shape, -1, device=device)
    for b, (i, lb) in enumerate(rows):
        ids[b, :len(i)], labels[b, :len(lb)] = i, lb
    false = torch.zeros(shape, dtype=torch.bool, device=device)
    return pq_ops.SegmentTable(
        ids=ids,
        labels=labels,
        iscrowd=false,
        crowd_region=false,
        areas=torch.full(
            shape, float('nan'), dtype=torch.float64, device=device),
        num=torch.tensor([len(i) for i, _ in rows], device=device))
