"""The annotation check that ``train`` and ``test`` run before starting,
on every panoptic dataset of a config."""
import os.path as osp
from typing import Iterator, List, Tuple

from mmengine.config import Config

from .problems import DataCheckError, Report
from .runner import check_split


def _datasets(cfg: Config) -> Iterator[Tuple[str, dict]]:
    """``(split, dataset cfg)`` of each dataloader, wrappers unwrapped."""
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        dataset = loader.get('dataset')
        while isinstance(dataset, dict) and 'dataset' in dataset and \
                'ann_file' not in dataset:
            dataset = dataset['dataset']  # RepeatDataset, ClassBalanced...
        if isinstance(dataset, dict) and dataset.get('ann_file'):
            yield split, dataset


def _dataset_class(type_name):
    from mmdet.datasets import CocoPanopticDataset

    from panoptic_zoo.registry import DATASETS
    cls = DATASETS.get(type_name) if isinstance(type_name, str) else \
        type_name
    if cls is None or not issubclass(cls, CocoPanopticDataset):
        return None
    return cls


def check_config_data(cfg: Config, reports_only: bool = False
                      ) -> List[Report]:
    """Check the annotations (not the pixels) of each panoptic dataset.

    Args:
        cfg (Config): The loaded config (``data_root`` already set).
        reports_only (bool): Return the reports instead of raising.

    Raises:
        DataCheckError: A JSON has errors; the message is the report.
    """
    reports, seen = [], set()
    for split, dataset in _datasets(cfg):
        cls = _dataset_class(dataset.get('type'))
        if cls is None:
            continue
        ann_file = osp.join(dataset.get('data_root') or '',
                            dataset['ann_file'])
        metainfo = dict(cls.METAINFO, **(dataset.get('metainfo') or {}))
        key = (ann_file, tuple(metainfo.get('classes', ())))
        if key in seen:
            continue
        seen.add(key)
        reports.append(check_split(
            ann_file, name=f'{split} ({ann_file})', pixels=False,
            metainfo=metainfo,
            order_matters=not getattr(cls, 'LABELS_IN_METAINFO_ORDER',
                                      False)))
    if not reports_only and not all(r.ok for r in reports):
        raise DataCheckError(reports)
    return reports
