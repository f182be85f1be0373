"""Write a picture of predictions next to ground truth after evaluation."""
import os.path as osp
from typing import List, Optional, Sequence

import mmcv
import numpy as np
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmengine.hooks import Hook

from panoptic_zoo.registry import HOOKS
from panoptic_zoo.visualization import panoptic_grid


def gt_panoptic_map(data_sample) -> np.ndarray:
    """Ground truth of a data sample in mmdet's panoptic encoding.

    ``gt_sem_seg`` gives the class of every pixel (255 = void); each thing
    instance mask then gets its own id. Returns (H, W) int64.
    """
    sem = data_sample.gt_sem_seg.sem_seg[0].cpu().numpy().astype(np.int64)
    pan = sem.copy()
    instances = data_sample.gt_instances
    if 'masks' in instances and len(instances) > 0:
        masks = instances.masks.to_ndarray().astype(bool)
        labels = instances.labels.cpu().numpy()
        for i, (mask, label) in enumerate(zip(masks, labels)):
            pan[mask[:pan.shape[0], :pan.shape[1]]] = (
                label + (i + 1) * INSTANCE_OFFSET)
    return pan


@HOOKS.register_module()
class PanopticPictureHook(Hook):
    """Save ``image | ground truth | prediction`` rows for the first images
    of each validation and test run, to ``{work_dir}/vis/{mode}_panoptic.png``,
    with class names on the instances and a legend of the classes present.

    Args:
        num_images (int, optional): Rows in the picture; None draws every
            image of the run. Defaults to 6.
    """
    priority = 'LOW'

    def __init__(self, num_images: Optional[int] = 6) -> None:
        if num_images is not None and num_images < 1:
            raise ValueError(f'num_images must be >= 1 or None (every '
                             f'image), got {num_images}')
        self.num_images = num_images
        self._rows: List[tuple] = []

    def _collect(self, outputs: Sequence) -> None:
        for sample in outputs:
            if (self.num_images is not None
                    and len(self._rows) >= self.num_images):
                return
            image = mmcv.imread(sample.img_path, channel_order='rgb')
            pred = sample.pred_panoptic_seg.sem_seg[0].cpu().numpy()
            self._rows.append((image, gt_panoptic_map(sample), pred,
                               osp.basename(sample.img_path)))

    def _write(self, runner, mode: str) -> Optional[str]:
        rows, self._rows = self._rows, []
        if runner.rank != 0 or not rows:
            return None
        meta = self._meta(runner, mode)
        grid = panoptic_grid([r[:3] for r in rows],
                             meta['classes'],
                             meta.get('palette'),
                             titles=[r[3] for r in rows])
        path = osp.join(runner.work_dir, 'vis', f'{mode}_panoptic.png')
        mmcv.imwrite(mmcv.rgb2bgr(grid), path)
        runner.logger.info(f'prediction picture written to {path}')
        return path

    @staticmethod
    def _meta(runner, mode: str) -> dict:
        loop = runner.val_loop if mode == 'val' else runner.test_loop
        return loop.dataloader.dataset.metainfo

    def before_val_epoch(self, runner) -> None:
        self._rows = []

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._collect(outputs)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._write(runner, 'val')

    def before_test_epoch(self, runner) -> None:
        self._rows = []

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._collect(outputs)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._write(runner, 'test')
