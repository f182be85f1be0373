"""Readable MMEngine config files: ``_base_`` plus overrides, as Python.

MMEngine's ``Config.pretty_text`` sorts keys and explodes every list; a
composed config reads better in the order its parts were written
(``type`` first, ``_delete_`` before it), OpenMMLab-style, in 79 columns.
"""
import textwrap
from pathlib import Path
from typing import Sequence

from .zoo_configs import PREFIX, zoo_name


def base_expression(path: Path) -> str:
    """``_base_`` for ``path``: a zoo config by its package path
    (``panoptic_zoo::<dir>/<file>.py``, so the file can live anywhere), any
    other by its absolute path."""
    name = zoo_name(str(path))
    return repr(str(path) if name is None else PREFIX + name)


def format_value(value,
                 indent: int = 0,
                 used: int = 0,
                 wrap: bool = True) -> str:
    """Python text for a config value (dicts as ``dict(k=v)``).

    Args:
        value: A dict, list, tuple or a scalar with a ``repr`` Python reads
            back.
        indent (int): Indentation of the line the value starts on.
        used (int): Columns already taken on that line.
        wrap (bool): Allow one item per line (at ``indent + 4``) when the
            value does not fit on the line.
    """
    if isinstance(value, dict):
        named = all(isinstance(k, str) and k.isidentifier() for k in value)
        items = [(f'{k}=' if named else f'{k!r}: ', v)
                 for k, v in value.items()]
        ends = ('dict(', ')') if named else ('{', '}')
    elif isinstance(value, (list, tuple)):
        items = [('', v) for v in value]
        ends = ('[', ']') if isinstance(
            value, list) else ('(', ', )' if len(value) == 1 else ')')
    else:
        return repr(value)
    inline = ends[0] + ', '.join(k + format_value(v, wrap=False)
                                 for k, v in items) + ends[1]
    # 75: room for the closing brackets of the enclosing values.
    if not wrap or not items or used + len(inline) <= 75:
        return inline
    pad = indent + 4
    body = ',\n'.join(' ' * pad + k + format_value(v, pad, pad + len(k))
                      for k, v in items)
    return f'{ends[0]}\n{body}{ends[1].lstrip(", ")}'


def config_text(base: Path, root: dict, header: Sequence[str] = ()) -> str:
    """A config file: ``header`` as comments, ``_base_ = <base>``, then one
    ``key = value`` per entry of ``root``."""
    lines = [
        line for text in header for line in textwrap.wrap(
            text,
            79,
            initial_indent='# ',
            subsequent_indent='#   ',
            break_long_words=False,
            break_on_hyphens=False)
    ]
    lines += ['', f'_base_ = {base_expression(base)}']
    for key, value in root.items():
        lines += ['', f'{key} = {format_value(value, 0, len(key) + 3)}']
    return '\n'.join(lines) + '\n'
