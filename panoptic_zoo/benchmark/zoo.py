"""The models a benchmark measures: the zoo's R50 COCO configs, each with
its ``_synthetic`` partner, and MMDetection's own Panoptic FPN.

A zoo entry pairs a COCO config (speed, size, and PQ on COCO with a given
checkpoint) with the ``_synthetic`` config of the same model and neck
(PQ after a short training on the built-in dataset). The partner is found
by the naming rule of the configs, ``{model}_{backbone}_{neck}_{schedule}
_{dataset}.py``: the one file ``{model}_*_{neck}_*_synthetic.py`` in the same
folder. A ``_synthetic`` config given directly is its own partner (fast
CPU runs).
"""
import glob
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence

import mmdet

from panoptic_zoo import zoo_configs
from panoptic_zoo.zoo_configs import CONFIG_ROOT

#: The zoo's models, in this order; then every ``configs/mix/*_coco.py``.
ZOO_CONFIGS = (
    'panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py',
    'panet/panoptic-panet_r50_path-aug-fpn_1x_coco.py',
    'upsnet/upsnet_r50_fpn_90k_coco.py',
    'aunet/aunet_r50_fpn_1x_coco.py',
)
MIX_GLOB = 'mix/*_coco.py'

REFERENCE_NAME = 'mmdet-panoptic-fpn'
#: mmdet's own config, shipped in its wheel.
REFERENCE_CONFIG = osp.join(
    osp.dirname(mmdet.__file__), '.mim', 'configs', 'panoptic_fpn',
    'panoptic-fpn_r50_fpn_1x_coco.py')
#: Our Panoptic FPN ``_synthetic`` config: with ``model.type`` switched to
#: mmdet's ``PanopticFPN`` it is the reference's accuracy row.
REFERENCE_SYNTHETIC = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


@dataclass
class ZooEntry:
    """One benchmarked model.

    Attributes:
        name (str): Short name, the config's model part (``upsnet``).
        config (str): Config measured for speed and size (and evaluated
            with ``--checkpoint``).
        synthetic_config (str, optional): Config trained for PQ on the
            built-in dataset; None until resolved.
        reference (bool): MMDetection's model, built in mmdet's scope.
    """
    name: str
    config: str
    synthetic_config: Optional[str] = None
    reference: bool = False


def config_stem(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def default_configs() -> List[str]:
    """The zoo's COCO configs; mixes found by glob so new ones appear."""
    fixed = [str(CONFIG_ROOT / c) for c in ZOO_CONFIGS]
    mixes = sorted(glob.glob(str(CONFIG_ROOT / MIX_GLOB)))
    return fixed + mixes


def resolve_config(path: str, option: str = '--configs') -> str:
    """An existing config file: ``path`` itself or a zoo config's name.

    Raises:
        FileNotFoundError: naming ``option`` and the path.
    """
    return zoo_configs.resolve_config(path, option)


def synthetic_partner(config: str) -> str:
    """The ``_synthetic`` config of ``config``'s model and neck.

    Raises:
        FileNotFoundError: when no file or more than one matches the rule.
    """
    stem = config_stem(config)
    if stem.endswith('_synthetic'):
        return config
    parts = stem.split('_')
    if len(parts) != 5:
        raise FileNotFoundError(
            f'{config}: name is not {{model}}_{{backbone}}_{{neck}}_'
            '{schedule}_{dataset}.py, so its _synthetic partner cannot be '
            'found; pass --skip-accuracy or a _synthetic config')
    pattern = osp.join(
        osp.dirname(config), f'{parts[0]}_*_{parts[2]}_*_synthetic.py')
    matches = sorted(glob.glob(pattern))
    if len(matches) != 1:
        found = ', '.join(osp.basename(m) for m in matches) or 'none'
        raise FileNotFoundError(
            f'{config}: expected exactly one _synthetic partner matching '
            f'{pattern}, found {found}; add one or pass --skip-accuracy')
    return matches[0]


def _names(configs: Sequence[str]) -> List[str]:
    """Model parts of the stems; full stems where two would collide."""
    short = [config_stem(c).split('_')[0] for c in configs]
    return [
        s if short.count(s) == 1 else config_stem(c)
        for s, c in zip(short, configs)
    ]


def zoo_entries(configs: Optional[Sequence[str]] = None,
                with_synthetic: bool = True) -> List[ZooEntry]:
    """The reference, then entries for ``configs`` (default: the zoo).

    Args:
        configs (list[str], optional): Config paths (or paths under
            ``configs/``); default :func:`default_configs`.
        with_synthetic (bool): Resolve each ``_synthetic`` partner now
            (and fail if one is missing).
    """
    paths = [resolve_config(c) for c in (configs or default_configs())]
    for path in paths:
        if paths.count(path) > 1:
            raise ValueError(f'--configs: {path} given twice')
    names = _names(paths)
    if REFERENCE_NAME in names:
        raise ValueError(f'--configs: the name {REFERENCE_NAME!r} is '
                         'reserved for the reference')
    if not osp.isfile(REFERENCE_CONFIG):
        raise FileNotFoundError(
            f'mmdet reference config not found: {REFERENCE_CONFIG} '
            '(mmdet installed without its .mim configs?)')
    reference = ZooEntry(
        REFERENCE_NAME,
        REFERENCE_CONFIG,
        str(CONFIG_ROOT / REFERENCE_SYNTHETIC) if with_synthetic else None,
        reference=True)
    return [reference] + [
        ZooEntry(name, path,
                 synthetic_partner(path) if with_synthetic else None)
        for name, path in zip(names, paths)
    ]
