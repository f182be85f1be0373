"""``panoptic-zoo test --out DIR --show-dir DIR``: every prediction as
COCO panoptic files, and a picture of each image.

``--out``: ``DIR/panoptic/<GT file name>.png`` (COCO RGB ids) and
``DIR/panoptic.json`` with the dataset's image ids and category ids, so
``panoptic-zoo eval-pq GT_JSON GT_DIR DIR/panoptic.json DIR/panoptic``
reproduces the test's PQ. ``--show-dir``: ``ground truth | prediction``
per image, titled with its file name and, when the evaluator is
:class:`~panoptic_zoo.evaluation.PanopticQuality`, the image's own PQ.
"""
import json
import os
import os.path as osp
from typing import Optional

import mmcv
import numpy as np
from mmengine.hooks import Hook
from PIL import Image

from panoptic_zoo.panoptic_png import coco_segments_info, id2rgb, segments_of
from panoptic_zoo.registry import HOOKS
from panoptic_zoo.visualization import panoptic_grid
from .picture_hook import gt_panoptic_map


def _image_pq(metric, record: dict) -> Optional[float]:
    """PQ (percent) of one image from the metric's per-image matches."""
    if metric is None or 'matches' not in record:
        return None
    from panoptic_zoo.ops import pq as pq_ops
    matches = pq_ops.PQMatches(**record['matches'])
    stat = pq_ops.accumulate(matches, len(metric.categories), 1)
    return 100 * pq_ops.pq_results(stat, metric.categories)['All']['pq']


@HOOKS.register_module()
class PanopticOutputHook(Hook):
    """Write the predictions and/or pictures of a test run.

    Args:
        out_dir (str, optional): Folder for the COCO panoptic predictions.
        show_dir (str, optional): Folder for one picture per image.
    """
    priority = 'LOW'

    def __init__(self,
                 out_dir: Optional[str] = None,
                 show_dir: Optional[str] = None) -> None:
        self.out_dir, self.show_dir = out_dir, show_dir
        self._anns, self._images = [], []

    def _metric(self, runner):
        from panoptic_zoo.evaluation import PanopticQuality
        metrics = getattr(runner.test_evaluator, 'metrics', [])
        return next((m for m in metrics if isinstance(m, PanopticQuality)),
                    None)

    def before_test_epoch(self, runner) -> None:
        self._anns, self._images = [], []
        meta = runner.test_loop.dataloader.dataset.metainfo
        self._classes = list(meta['classes'])
        self._palette = meta.get('palette')
        metric = self._metric(runner)
        by_name = {c['name']: c for c in (metric.categories if metric else [])}
        self._categories = [
            by_name.get(name, dict(id=k + 1, name=name,
                                   isthing=int(name in meta.get(
                                       'thing_classes', ()))))
            for k, name in enumerate(self._classes)
        ]
        for folder in (self.out_dir, self.show_dir):
            if folder:
                os.makedirs(folder, exist_ok=True)
        if self.out_dir:
            os.makedirs(osp.join(self.out_dir, 'panoptic'), exist_ok=True)

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        metric = self._metric(runner) if self.show_dir else None
        records = metric.results[-len(outputs):] if metric else []
        for k, sample in enumerate(outputs):
            pan = sample.pred_panoptic_seg.sem_seg[0].cpu().numpy().astype(
                np.int64)
            stem = osp.splitext(osp.basename(sample.img_path))[0]
            if self.out_dir:
                self._write(sample, stem, pan)
            if self.show_dir:
                record = records[k] if k < len(records) else {}
                pq = _image_pq(metric, record) if record.get(
                    'img_id') == sample.img_id else None
                self._show(sample, stem, pan, pq)

    def _write(self, sample, stem: str, pan: np.ndarray) -> None:
        ids, segments = segments_of(pan, len(self._classes))
        file_name = f'{stem}.png'
        Image.fromarray(id2rgb(ids)).save(
            osp.join(self.out_dir, 'panoptic', file_name))
        height, width = pan.shape
        self._images.append(
            dict(id=sample.img_id, file_name=osp.basename(sample.img_path),
                 height=height, width=width))
        self._anns.append(
            dict(image_id=sample.img_id, file_name=file_name,
                 segments_info=coco_segments_info(
                     segments, [c['id'] for c in self._categories])))

    def _show(self, sample, stem: str, pan: np.ndarray,
              pq: Optional[float]) -> None:
        image = mmcv.imread(sample.img_path, channel_order='rgb')
        title = osp.basename(sample.img_path)
        if pq is not None:
            title += f'   PQ {pq:.1f}'
        if 'gt_sem_seg' in sample:
            row, headers = ((image, gt_panoptic_map(sample), pan),
                            ('image', 'ground truth', 'prediction'))
        else:  # format_only on a split without annotations
            row, headers = (image, pan), ('image', 'prediction')
        grid = panoptic_grid([row], self._classes, self._palette,
                             headers=headers, titles=[title])
        Image.fromarray(grid).save(osp.join(self.show_dir, f'{stem}.png'))

    def after_test_epoch(self, runner, metrics=None) -> None:
        if self.out_dir:
            # Every rank wrote its own PNGs; rank 0 lists them all.
            from mmengine.dist import all_gather_object
            images = sum(all_gather_object(self._images), [])
            anns = sum(all_gather_object(self._anns), [])
        if self.out_dir and runner.rank == 0:
            order = sorted(range(len(anns)), key=lambda k: anns[k]['image_id'])
            path = osp.join(self.out_dir, 'panoptic.json')
            with open(path, 'w') as f:
                json.dump(dict(images=[images[k] for k in order],
                               annotations=[anns[k] for k in order],
                               categories=self._categories), f)
            runner.logger.info(f'predictions written to {path} and '
                               f'{osp.join(self.out_dir, "panoptic")}/')
        if self.show_dir and runner.rank == 0:
            runner.logger.info(f'pictures written to {self.show_dir}/')
