"""What a panoptic_zoo config can name: every registered component.

``panoptic-zoo list [KIND]`` prints each component visible from our scope —
ours, mmdet's and MMEngine's (parents of our registries), and the plugins'
— with its kind (registry), the distribution it comes from and the first
line of its docstring. ``panoptic-zoo info NAME`` prints its constructor
arguments with defaults and their docstring descriptions.
"""
import argparse
import difflib
import inspect
import re
from typing import Dict, List, NamedTuple, Optional

from .plugins import (component_origin, module_origin, normalize,
                      plugin_records, registry_kinds)
from .registry import SCOPE


class Component(NamedTuple):
    """One name a config can use as ``type=``.

    Attributes:
        kind (str): The registry: ``'model'``, ``'dataset'``, ...
        name (str): The registered name.
        origin (str): Distribution it comes from (``panoptic-zoo``,
            ``mmdet``, a plugin's name, ...).
        scope (str): Scope of the registry holding it (``panoptic_zoo``,
            ``mmdet``, ``mmengine``).
        summary (str): First line of its docstring ('' if none).
        obj (object): The class or function.
    """
    kind: str
    name: str
    origin: str
    scope: str
    summary: str
    obj: object


def _registered() -> None:
    """Import ours, mmdet's parts and the plugins, once."""
    from .utils import register_all_modules
    register_all_modules(init_default_scope=False)
    for registry in registry_kinds().values():
        registry.parent.import_from_location()


def resolve_kind(kind: str) -> str:
    """``'MODELS'``, ``'models'`` or ``'model'`` → ``'model'``.

    Raises:
        ValueError: If no registry has that kind; lists the kinds.
    """
    kinds = registry_kinds()
    key = kind.strip().lower().replace('-', '_')
    for candidate in (key, key[:-1] if key.endswith('s') else key):
        if candidate in kinds:
            return candidate
    raise ValueError(f'unknown component kind {kind!r}; expected one of: '
                     f'{", ".join(kinds)}')


def resolve_slot(word: str) -> Optional[str]:
    """The ``compose`` slot a word names, or None: ``neck``, ``necks``,
    ``fusion``, ``fusion-head``, ``semantic``, ``semantic_heads``, ..."""
    from .slots import SLOTS
    key = word.strip().lower().replace('-', '_')
    for candidate in (key, key[:-1] if key.endswith('s') else key):
        for name in (candidate, f'{candidate}_head'):
            if name in SLOTS:
                return name
        if candidate.endswith('_head') and candidate[:-5] in SLOTS:
            return candidate[:-5]
    return None


def slot_parts(slot: str, origin: Optional[str] = None) -> List[Component]:
    """Registered models that ``compose --<slot>`` accepts."""
    from .slots import SLOTS
    fits = SLOTS[slot].fits
    out = []
    for c in list_components('model', origin):
        try:
            ok = inspect.isclass(c.obj) and fits(c.obj)
        except Exception:  # a part whose check itself fails: not listed
            ok = False
        if ok:
            out.append(c)
    return out


def summary(obj: object, width: int = 100) -> str:
    """First sentence of ``obj``'s own docstring, at most ``width`` chars.

    A docstring's first line often wraps mid-sentence, so the first
    paragraph is joined and cut at its first full stop.
    """
    doc = inspect.cleandoc(getattr(obj, '__doc__', None) or '')
    text = ' '.join(doc.split('\n\n')[0].split())
    # A full stop ends the sentence unless an abbreviation (Sec., e.g.).
    sentence = re.match(
        r'^(.+?(?<!\bSec)(?<!\bFig)(?<!\bEq)(?<!\beq)(?<!e\.g)(?<!i\.e)'
        r'(?<!\bal)\.)(?=\s+[A-Z(`]|$)', text)
    text = sentence.group(1) if sentence else text
    return text if len(text) <= width else text[:width - 3] + '...'


def list_components(kind: Optional[str] = None,
                    origin: Optional[str] = None) -> List[Component]:
    """Every component visible from the ``panoptic_zoo`` scope.

    A name registered at several levels (ours over mmdet's over MMEngine's)
    is listed once, as a config resolves it.

    Args:
        kind (str, optional): Only this registry (see :func:`resolve_kind`).
        origin (str, optional): Only components of this distribution.

    Returns:
        list[Component]: Sorted by kind (registry order), then name.
    """
    _registered()
    kinds = registry_kinds()
    if kind is not None:
        kind = resolve_kind(kind)
        kinds = {kind: kinds[kind]}
    found = []
    for kind_name, registry in kinds.items():
        seen = set()
        node = registry
        while node is not None:
            for name, obj in sorted(node.module_dict.items()):
                if name in seen:
                    continue
                seen.add(name)
                # Only our scope holds plugins' names (plugins.py).
                source = (
                    component_origin(kind_name, name, obj)
                    if node.scope == SCOPE else module_origin(
                        getattr(obj, '__module__', '') or '?'))
                found.append(
                    Component(kind_name, name, source, node.scope,
                              summary(obj), obj))
            node = node.parent
    if origin is not None:
        found = [c for c in found if normalize(c.origin) == normalize(origin)]
    order = {k: i for i, k in enumerate(registry_kinds())}
    return sorted(found, key=lambda c: (order[c.kind], c.name.lower()))


def find_component(name: str, kind: Optional[str] = None) -> List[Component]:
    """The components named ``name`` (one per registry that has it).

    Raises:
        KeyError: If none; suggests close names.
    """
    everything = list_components(kind)
    matches = [c for c in everything if c.name == name]
    if not matches:
        close = difflib.get_close_matches(
            name, sorted({c.name
                          for c in everything}), n=5)
        where = (f'the {resolve_kind(kind)} registry'
                 if kind else 'any registry')
        raise KeyError(f'no component {name!r} in {where} of scope {SCOPE}' +
                       (f'; did you mean {", ".join(close)}?'
                        if close else '; see `panoptic-zoo list`'))
    return matches


def arg_docs(doc: str) -> Dict[str, str]:
    """Argument descriptions from a Google-style ``Args:`` section."""
    lines = inspect.cleandoc(doc or '').splitlines()
    docs, current, indent = {}, None, None
    inside = False
    for line in lines:
        stripped = line.strip()
        depth = len(line) - len(line.lstrip())
        if stripped in ('Args:', 'Arguments:', 'Parameters:'):
            inside, indent = True, None
            continue
        if not inside or not stripped:
            continue
        if depth == 0:  # the next section (Returns:, ...)
            inside = False
            continue
        indent = depth if indent is None else indent
        entry = re.match(r'^\**(\w+)\s*(?:\(.*?\))?\s*:\s*(.*)$', stripped)
        if depth == indent and entry:
            current = entry.group(1)
            docs[current] = entry.group(2)
        elif current is not None:
            docs[current] = f'{docs[current]} {stripped}'.strip()
    return docs


def _description(doc: str) -> str:
    """The docstring up to its first section header."""
    text = inspect.cleandoc(doc or '')
    head = re.split(
        r'^(?:Args|Arguments|Parameters|Returns|Raises|'
        r'Examples?|Note|Attributes):\s*$',
        text,
        maxsplit=1,
        flags=re.M)[0]
    return head.strip()


def describe(component: Component) -> str:
    """Text for ``panoptic-zoo info``: where it comes from, what it is,
    its constructor arguments with defaults."""
    obj = component.obj
    module = getattr(obj, '__module__', '?')
    qualname = getattr(obj, '__qualname__', component.name)
    try:
        source = inspect.getsourcefile(obj) or '?'
    except TypeError:
        source = '?'
    plugin = {
        normalize(r.spec.distribution): r.spec.version
        for r in plugin_records()
    }.get(normalize(component.origin))
    lines = [
        f'{component.name}',
        f'  kind:    {component.kind} (registry scope {component.scope})',
        f'  origin:  {component.origin}' +
        (f' {plugin} (plugin)' if plugin else ''),
        f'  defined: {module}.{qualname}', f'  file:    {source}', ''
    ]
    description = _description(getattr(obj, '__doc__', None))
    lines += [description or '(no docstring)', '']
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        lines.append('Arguments: (signature not available)')
        return '\n'.join(lines)
    docs = arg_docs(getattr(obj, '__doc__', None))
    if inspect.isclass(obj):
        docs = {**arg_docs(getattr(obj.__init__, '__doc__', None)), **docs}
    lines.append(f"Arguments of type='{component.name}':")
    if not signature.parameters:
        lines.append('  (none)')
    for param in signature.parameters.values():
        name = param.name
        if param.kind is param.VAR_POSITIONAL:
            name = f'*{name}'
        elif param.kind is param.VAR_KEYWORD:
            name = f'**{name}'
        annotation = ('' if param.annotation is param.empty else
                      f': {inspect.formatannotation(param.annotation)}')
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            default = ''
        elif param.default is param.empty:
            default = ' (required)'
        else:
            default = f' = {param.default!r}'
        lines.append(f'  {name}{annotation}{default}')
        if param.name in docs:
            lines.append(f'      {docs[param.name]}')
    return '\n'.join(lines)


def format_table(components: List[Component]) -> str:
    """Aligned ``KIND NAME ORIGIN SUMMARY`` rows."""
    rows = [('KIND', 'NAME', 'ORIGIN', 'SUMMARY')]
    rows += [(c.kind, c.name, c.origin, c.summary) for c in components]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return '\n'.join(
        '  '.join(cell.ljust(width)
                  for cell, width in zip(row, widths)) + '  ' + row[3]
        for row in rows).rstrip()


def _plugin_lines() -> List[str]:
    lines = []
    for record in plugin_records():
        spec = record.spec
        line = f'plugin {spec.distribution} {spec.version}: {record.status}'
        if record.reason:
            line += f' ({record.reason})'
        lines.append(line)
    return lines or ['plugins: none installed']


# ----------------------------------------------------------------- CLI
def add_list_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        'kind',
        nargs='?',
        help='registry to list: model, dataset, transform, metric, hook, '
        '... (default: all)')
    parser.add_argument(
        '--origin',
        help='only components of this distribution, e.g. mmdet, '
        'panoptic-zoo or a plugin package')
    parser.add_argument(
        '--slot',
        help='only parts for this compose slot: neck, roi-extractor, '
        'bbox-head, mask-head, semantic-head, attention, fusion (also '
        'accepted as KIND: `list neck`)')


def run_list(args: argparse.Namespace) -> List[Component]:
    slot = args.slot
    if slot is None and args.kind and args.kind.strip().lower().replace(
            '-', '_') not in registry_kinds():
        slot = resolve_slot(args.kind)  # `list neck`: the word compose uses
    if slot is not None:
        name = resolve_slot(slot)
        if name is None:
            from .slots import SLOTS
            raise ValueError(f'unknown slot {slot!r}; expected one of: '
                             f'{", ".join(s.flag for s in SLOTS.values())}')
        components = slot_parts(name, args.origin)
    else:
        components = list_components(args.kind, args.origin)
    print(format_table(components))
    print(f'\n{len(components)} components')
    print('\n'.join(_plugin_lines()))
    return components


def add_info_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('name', help='registered name, e.g. FPN')
    parser.add_argument(
        '--kind', help='registry to look in if the name is in several')


def run_info(args: argparse.Namespace) -> List[Component]:
    matches = find_component(args.name, args.kind)
    print('\n\n'.join(describe(c) for c in matches))
    return matches
