"""``panoptic-zoo compose``: a new architecture from a zoo model and parts.

Writes an MMEngine config whose ``_base_`` is a zoo model's config and which
overrides only the slots asked for (DESIGN.md §2). Each part gets the
constructor arguments it needs from the base (channels, levels, strides,
class counts, GN) from one table, ``slots.PART_DEFAULTS``; a slot whose type
changes is written with ``_delete_=True`` plus the base arguments its slot
keeps (``slots.SLOTS``), so the old part's other arguments do not leak. The
model is built before anything is printed or written.
"""
import argparse
import copy
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

from mmengine.config import Config, DictAction

from .components import list_components
from .config_text import config_text
from .slots import SLOTS, BaseView, ComposeError, lookup_part, new_part
from .zoo_configs import CONFIG_ROOT, resolve_config, zoo_name

BASES = {  # --base NAME: (COCO config, --synthetic config) under configs/
    'panoptic_fpn': ('panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py',
                     'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'),
    'panet': ('panet/panoptic-panet_r50_path-aug-fpn_1x_coco.py',
              'panet/panoptic-panet_r18-tiny_path-aug-fpn_2k_synthetic.py'),
    'upsnet': ('upsnet/upsnet_r50_fpn_90k_coco.py',
               'upsnet/upsnet_r18-tiny_fpn_2k_synthetic.py'),
    'aunet': ('aunet/aunet_r50_fpn_1x_coco.py',
              'aunet/aunet_r18-tiny_fpn_2k_synthetic.py'),
}


def _get(tree: dict, key: str):
    for part in key.split('.'):
        tree = (tree or {}).get(part)
    return tree


def _set(tree: dict, key: str, value) -> None:
    *parents, last = key.split('.')
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[last] = value


def resolve_base(base: str, synthetic: bool = False) -> Path:
    """The config of ``--base``: a zoo model's name or a config path."""
    if base in BASES:
        return CONFIG_ROOT / BASES[base][int(synthetic)]
    if synthetic:
        raise ComposeError(f'--synthetic picks the synthetic config of a zoo '
                           f'model ({", ".join(BASES)}); --base {base} is a '
                           'path, used as it is')
    try:
        return Path(resolve_config(str(Path(base).expanduser()), '--base'))
    except FileNotFoundError as error:
        raise ComposeError(f'{error}; or a zoo model: '
                           f'{", ".join(BASES)}') from None


class Composition(NamedTuple):
    """``text`` to write, ``cfg`` loaded from it, ``notes`` on choices."""
    text: str
    cfg: Config
    notes: List[str]


def compose(base: str,
            *,
            synthetic: bool = False,
            parts: Optional[Dict[str, object]] = None,
            options: Optional[dict] = None,
            command: str = '',
            out: str = 'OUT.py') -> Composition:
    """Compose a config from ``base`` and ``parts``, and build its model.

    Args:
        base (str): ``panoptic_fpn``, ``panet``, ``upsnet``, ``aunet`` or a
            config path.
        synthetic (bool): The zoo model's ``_synthetic`` config.
        parts (dict): Slot (a :data:`SLOTS` key) → registered name; for
            ``attention`` a list of names (``[]``: no attention).
        options (dict): ``--set`` overrides, full keys (``model.x.y``).
        command (str): The command line, recorded in the header.
        out (str): Where it will be written, for the header's train line.

    Raises:
        ComposeError: An unknown or misplaced part, a bad base, or a model
            that does not build (with the build error).
    """
    from .utils import register_all_modules
    register_all_modules()
    path = resolve_base(base, synthetic)
    cfg = Config.fromfile(str(path))
    if cfg.get('model', {}).get('type') != 'PanopticSegmentor':
        raise ComposeError(f'--base {base}: {path} is not a PanopticSegmentor '
                           f'config (model.type={cfg.model.get("type")!r})')
    models = {c.name: c for c in list_components('model')}
    parts = {k: v for k, v in (parts or {}).items() if v is not None}
    classes = {
        (slot, n): lookup_part(SLOTS[slot], n, models)
        for slot, names in parts.items()
        for n in (names if slot == 'attention' else [names])
    }
    model, overrides, notes = cfg.model.to_dict(), {}, []
    fusion_cls = classes.get(('fusion', parts.get('fusion')))
    semantic = model['semantic_head']['type']
    if getattr(fusion_cls, 'needs_thing_logits_per_class', False) and \
            'semantic_head' not in parts and semantic == 'PanopticFPNHead':
        parts['semantic_head'] = name = 'PanopticFPNPerClassHead'
        classes[('semantic_head', name)] = models[name].obj
        notes.append(f'semantic head: {semantic} -> {name} '
                     f'({parts["fusion"]} reads per-thing-class logits)')
    for slot_name in (s for s in SLOTS if s in parts):
        slot, names = SLOTS[slot_name], parts[slot_name]
        if slot_name == 'attention':  # a list: replaced as a whole
            old = {p['type']: p for p in model.get('attention', [])}
            plugins = []
            for n in names:
                cls = classes[('attention', n)]
                plugins.append(
                    copy.deepcopy(old[n]) if n in old else new_part(
                        slot, n, cls, None, BaseView(cfg, model)))
            model['attention'] = overrides['attention'] = plugins
            continue
        for key in slot.keys:
            old = _get(model, key)
            if old is None or old.get('type') == names:
                notes.append(f'model.{key} unchanged: ' + (
                    'not in the base' if old is None else f'already {names}'))
                continue
            new = new_part(slot, names, classes[(slot_name, names)], old,
                           BaseView(cfg, model))
            test_cfg = new.pop('test_cfg', None)  # a fusion head's
            _set(model, key, new)
            _set(overrides, key, dict(_delete_=True, **new))
            if test_cfg is not None:
                model['test_cfg']['panoptic'] = test_cfg
                _set(overrides, 'test_cfg.panoptic',
                     dict(_delete_=True, **test_cfg))
    root = {'model': overrides}
    for key, value in (options or {}).items():
        _set(root, key, value)
    text = render(path, root, command, notes, out)
    return Composition(text, build_check(text), notes)


def render(base: Path,
           root: dict,
           command: str,
           notes: Sequence[str],
           out: str = 'OUT.py') -> str:
    """The config file's text: header, ``_base_``, the overrides."""
    name = zoo_name(str(base))
    shown = base if name is None else f'panoptic_zoo::{name}'
    head = [
        f'Composed by: {command}' if command else 'Composed.',
        f'Base: {shown}', 'Only the keys below differ from the base.'
    ]
    head += [f'Note: {note}' for note in notes]
    return config_text(base, root,
                       head + [f'Train it: panoptic-zoo train {out}'])


def build_check(text: str) -> Config:
    """Load ``text`` as a config file and build its model.

    Raises:
        ComposeError: With the build error (e.g. the segmentor's
            compatibility checks naming two parts).
    """
    from .registry import MODELS
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'composed.py'
        path.write_text(text, encoding='utf-8')
        cfg = Config.fromfile(str(path))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.init_cfg = None
    try:
        MODELS.build(model_cfg)
    except Exception as err:  # whatever the parts raise, surfaced as is
        raise ComposeError('the composed model does not build:\n  '
                           f'{type(err).__name__}: {err}') from err
    return cfg


# ----------------------------------------------------------------- CLI
def add_compose_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--base',
        required=True,
        metavar='NAME|CONFIG',
        help=f'zoo model ({", ".join(BASES)}) or a config path')
    parser.add_argument(
        '--synthetic',
        action='store_true',
        help="the zoo model's _synthetic config (built-in data, CPU)")
    for slot_name, slot in SLOTS.items():
        if slot_name != 'attention':
            parser.add_argument(
                f'--{slot.flag}',
                metavar='NAME',
                help=f'registered {slot.what}')
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        '--attention',
        nargs='+',
        metavar='NAME',
        help='FG->BG attention plugins, in order')
    group.add_argument(
        '--no-attention',
        action='store_true',
        help='remove the base\'s attention plugins')
    parser.add_argument(
        '--set',
        nargs='+',
        action=DictAction,
        default={},
        metavar='KEY=VALUE',
        help='any other config key, '
        'e.g. train_cfg.max_iters=100')
    parser.add_argument(
        '-o', '--out', metavar='OUT.py', help='write here instead of printing')
    parser.add_argument(
        '--force', action='store_true', help='overwrite OUT.py if it exists')


def _command(args: argparse.Namespace) -> str:
    words = ['panoptic-zoo', 'compose', '--base', args.base]
    words += ['--synthetic'] if args.synthetic else []
    for slot_name, slot in SLOTS.items():
        value = getattr(args, slot_name)
        if value is not None:
            words += [f'--{slot.flag}'] + (
                list(value) if isinstance(value, list) else [value])
    words += ['--no-attention'] if args.no_attention else []
    words += ['--set'] + [f'{k}={v}' for k, v in args.set.items()] \
        if args.set else []
    return shlex.join(words + (['-o', args.out] if args.out else []))


def run_compose(args: argparse.Namespace) -> Optional[Composition]:
    """Print or write the composed config; exit 1 with the error, writing
    nothing, if it cannot be composed or built."""
    out = Path(args.out) if args.out else None
    parts = {s: getattr(args, s) for s in SLOTS}
    if args.no_attention:
        parts['attention'] = []
    try:
        if out is not None and out.suffix != '.py':
            raise ComposeError(f'-o {out}: a config file must end in .py')
        if out is not None and out.exists() and not args.force:
            raise ComposeError(f'-o {out}: the file exists; pass --force '
                               'to overwrite it')
        result = compose(
            args.base,
            synthetic=args.synthetic,
            parts=parts,
            options=args.set,
            command=_command(args),
            out=args.out or 'OUT.py')
    except ComposeError as err:
        raise SystemExit(f'panoptic-zoo compose: {err}')
    for note in result.notes:
        print(f'note: {note}', file=sys.stderr)
    if out is None:
        print(result.text, end='')
        print(
            '# model builds; save this as OUT.py and train it: '
            'panoptic-zoo train OUT.py',
            file=sys.stderr)
        return result
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(result.text, encoding='utf-8')
    print(f'wrote {out} (model builds)\ntrain it:\n  panoptic-zoo train '
          f'{shlex.quote(str(out))}')
    return result
