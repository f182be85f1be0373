"""What a benchmark run does, from parsed arguments, checked up front so
that bad input fails before any model is built, naming the argument."""
import datetime
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config

from panoptic_zoo.engine.launch import set_data_root
from .accuracy import check_coco_layout
from .inputs import parse_input
from .speed import PRECISIONS
from .zoo import ZooEntry, zoo_entries

#: Defaults per device: a GPU run measures the COCO training input; a CPU
#: run small sizes that finish in minutes on a few cores.
DEFAULTS = dict(
    cuda=dict(
        input='2x800x1216',
        instances=15,
        infer_batch=8,
        steps=20,
        warmup=5,
        precision=('fp32', 'amp'),
        train_iters=2000),
    cpu=dict(
        input='1x256x384',
        instances=5,
        infer_batch=2,
        steps=3,
        warmup=1,
        precision=('fp32', ),
        train_iters=50),
)


@dataclass
class Plan:
    """A checked benchmark run (see ``add_benchmark_args`` for meanings)."""
    entries: List[ZooEntry]
    device: str
    batch: int
    height: int
    width: int
    instances: int
    infer_batch: int
    steps: int
    warmup: int
    precisions: Sequence[str]
    train_iters: int
    out_dir: str
    data_root: Optional[str] = None
    checkpoints: Dict[str, str] = field(default_factory=dict)
    cfg_options: Optional[dict] = None
    skip_speed: bool = False
    skip_accuracy: bool = False
    threads: Optional[int] = None
    clock: str = 'wall'
    seed: int = 0

    @property
    def reference(self) -> ZooEntry:
        return next(e for e in self.entries if e.reference)


def _device(requested: Optional[str]) -> str:
    if requested is None:
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if requested not in ('cpu', 'cuda'):
        raise ValueError(f"--device: expected 'cpu' or 'cuda', got "
                         f'{requested!r}')
    if requested == 'cuda' and not torch.cuda.is_available():
        raise ValueError('--device cuda: no CUDA device is available')
    return requested


def parse_checkpoints(items: Optional[Sequence[str]]) -> Dict[str, str]:
    """``['NAME=PATH', ...]`` → ``{NAME: PATH}``."""
    out = {}
    for item in items or ():
        name, sep, path = str(item).partition('=')
        if not sep or not name or not path:
            raise ValueError(f'--checkpoint: expected NAME=PATH, got '
                             f'{item!r}')
        if name in out:
            raise ValueError(f'--checkpoint: {name!r} given twice')
        out[name] = path
    return out


def _positive(key: str, value: int, minimum: int = 1) -> int:
    if value is None or int(value) < minimum:
        raise ValueError(f'--{key.replace("_", "-")}: expected an integer '
                         f'>= {minimum}, got {value!r}')
    return int(value)


def _check_data_root(entries: List[ZooEntry], data_root: str,
                     checkpoints: Dict[str, str]) -> None:
    """``data_root`` holds what the configs to evaluate read (COCO layout:
    with checkpoints, the COCO configs; else the _synthetic ones)."""
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'--data-root: not a directory: {data_root}')
    configs = [e.config for e in entries if e.name in checkpoints] \
        if checkpoints else [e.synthetic_config for e in entries]
    for config in dict.fromkeys(configs):
        cfg = Config.fromfile(config)
        set_data_root(cfg, data_root)
        check_coco_layout(cfg, data_root)


def make_plan(args) -> Plan:
    """Check ``args`` (from :func:`add_benchmark_args`) and fill the
    per-device defaults.

    Raises:
        ValueError / FileNotFoundError: naming the argument or file.
    """
    device = _device(args.device)
    defaults = DEFAULTS[device]

    def pick(key):  # the argument, or the device's default
        value = getattr(args, key)
        return defaults[key] if value is None else value

    batch, height, width = parse_input(pick('input'))
    precisions = tuple(dict.fromkeys(pick('precision')))
    for precision in precisions:
        if precision not in PRECISIONS:
            raise ValueError(f'--precision: expected {PRECISIONS}, got '
                             f'{precision!r}')
    if 'amp' in precisions and device != 'cuda':
        raise ValueError('--precision amp needs --device cuda (AMP is '
                         'measured with CUDA autocast)')
    checkpoints = parse_checkpoints(args.checkpoint)
    if args.clock == 'cpu' and device != 'cpu':
        raise ValueError('--clock cpu needs --device cpu: GPU work is not '
                         'process CPU time')
    if checkpoints and args.skip_accuracy:
        raise ValueError('--checkpoint with --skip-accuracy: the '
                         'checkpoints would not be evaluated')
    if checkpoints and args.data_root is None:
        raise ValueError('--checkpoint needs --data-root: the COCO-layout '
                         'dataset to evaluate the checkpoints on')
    accuracy = not args.skip_accuracy
    entries = zoo_entries(
        args.configs, with_synthetic=accuracy and not checkpoints)
    names = [e.name for e in entries]
    for name, path in checkpoints.items():
        if name not in names:
            raise ValueError(f'--checkpoint {name}={path}: {name!r} is not a '
                             f'benchmarked model (models: '
                             f'{", ".join(names)})')
        if not osp.isfile(path):
            raise FileNotFoundError(f'--checkpoint {name}: checkpoint file '
                                    f'not found: {path}')
    if accuracy and args.data_root is not None:
        _check_data_root(entries, args.data_root, checkpoints)
    if args.skip_speed and not accuracy:
        raise ValueError('--skip-speed with --skip-accuracy leaves nothing '
                         'to measure')
    out_dir = args.out_dir or osp.join(
        'work_dirs', 'benchmark',
        datetime.datetime.now().strftime('%Y%m%d_%H%M%S'))
    return Plan(
        entries=entries,
        device=device,
        batch=batch,
        height=height,
        width=width,
        instances=_positive('instances', pick('instances')),
        infer_batch=_positive('infer_batch', pick('infer_batch')),
        steps=_positive('steps', pick('steps')),
        warmup=_positive('warmup', pick('warmup'), 0),
        precisions=precisions,
        train_iters=_positive('train_iters', pick('train_iters')),
        out_dir=out_dir,
        data_root=args.data_root,
        checkpoints=checkpoints,
        cfg_options=args.cfg_options,
        skip_speed=args.skip_speed,
        skip_accuracy=args.skip_accuracy,
        threads=None if args.threads is None else _positive(
            'threads', args.threads),
        clock=args.clock,
        seed=args.seed)
