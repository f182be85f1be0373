"""Fail before the first iteration when model and dataset classes differ."""
from mmengine.hooks import Hook

from panoptic_zoo.models.segmentors.class_layout import check_dataset_classes
from panoptic_zoo.registry import DATASETS, HOOKS


def dataset_metainfo(dataset_cfg: dict) -> dict:
    """Metainfo a dataset config will have, without loading its files.

    MMEngine datasets merge the class's ``METAINFO`` with the config's
    ``metainfo``; ``_load_metainfo`` is that merge.
    """
    cfg = dict(dataset_cfg)
    while 'dataset' in cfg and 'metainfo' not in cfg:  # wrappers
        cfg = dict(cfg['dataset'])
    dataset_cls = DATASETS.get(cfg['type'])
    if dataset_cls is None:
        raise KeyError(f'dataset type {cfg["type"]!r} is not registered')
    return dataset_cls._load_metainfo(cfg.get('metainfo'))


@HOOKS.register_module()
class ClassCheckHook(Hook):
    """Check every configured dataset's classes against the model's.

    Runs in ``before_run``, from the configs alone, so a mismatch (e.g. a COCO
    head on the built-in dataset) stops the run with a message naming both
    config keys instead of training to a PQ of 0.
    """
    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        model = runner.model.module if hasattr(
            runner.model, 'module') else runner.model
        for split in ('train', 'val', 'test'):
            loader = runner.cfg.get(f'{split}_dataloader')
            if not loader:
                continue
            check_dataset_classes(
                model, dataset_metainfo(loader['dataset']),
                f'{split}_dataloader.dataset')
