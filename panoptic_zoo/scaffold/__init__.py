"""``panoptic-zoo new-plugin``: write a new plugin package.

The package looks like ``plugins/panoptic-zoo-example``: ``setup.cfg`` with
the ``panoptic_zoo.plugins`` entry point, a component skeleton of the chosen
kind that already runs (and starts as a known part: identity attention,
FPN, Panoptic FPN's semantic head, heuristic fusion, UPSNet's trainable
fusion), its tests, and a config using it on the built-in
dataset. The tests pass right after ``pip install -e``.

Templates are ``templates/**/*.tmpl`` (not ``.py``, so no tool imports or
byte-compiles them); ``{{name}}`` placeholders are filled from
:func:`plugin_fields`.
"""
import argparse
import importlib.util
import keyword
import re
from pathlib import Path
from typing import Dict, Optional

import panoptic_zoo

TEMPLATES = Path(__file__).resolve().parent / 'templates'
KINDS = {  # kind: class-name suffix
    'attention': 'Attention',
    'neck': 'Neck',
    'semantic_head': 'SemanticHead',
    'fusion_head': 'FusionHead',
    'trainable_fusion_head': 'FusionHead',
}
# template (under TEMPLATES) → path in the new package; '{kind}' is the kind.
FILES = {
    'common/setup.cfg.tmpl': 'setup.cfg',
    'common/pyproject.toml.tmpl': 'pyproject.toml',
    'common/README.md.tmpl': 'README.md',
    'common/package_init.py.tmpl': '{{package}}/__init__.py',
    'common/conftest.py.tmpl': 'tests/conftest.py',
    'common/test_config.py.tmpl': 'tests/test_{{module}}_config.py',
    '{kind}/component.py.tmpl': '{{package}}/{{module}}.py',
    '{kind}/test_component.py.tmpl': 'tests/test_{{module}}.py',
    '{kind}/config.py.tmpl': '{{package}}/configs/{{config}}.py',
}
_PLACEHOLDER = re.compile(r'{{(\w+)}}')


def _snake(name: str) -> str:
    return re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', name).lower()


def plugin_fields(name: str,
                  kind: str = 'attention',
                  class_name: Optional[str] = None) -> Dict[str, str]:
    """The values the templates are filled with.

    Args:
        name (str): Distribution name, e.g. ``panoptic-zoo-my-gate``.
        kind (str): One of :data:`KINDS`.
        class_name (str, optional): The component's registered name.
            Defaults to ``name`` without a ``panoptic-zoo-`` prefix, in
            CamelCase, plus the kind (``MyGateAttention``).

    Raises:
        ValueError: A name, kind or class name that cannot be used.
    """
    if kind not in KINDS:
        raise ValueError(f'new-plugin --kind {kind!r}: expected one of '
                         f'{", ".join(KINDS)}')
    if not re.fullmatch(r'[A-Za-z][A-Za-z0-9]*([-_.][A-Za-z0-9]+)*', name):
        raise ValueError(
            f'new-plugin NAME {name!r}: a distribution name is letters, '
            'digits and single - _ . separators, starting with a letter')
    package = re.sub(r'[-_.]+', '_', name).lower()
    if keyword.iskeyword(package) or importlib.util.find_spec(package):
        raise ValueError(
            f'new-plugin NAME {name!r}: its import name {package!r} is a '
            'Python keyword or an importable module already; choose another')
    stem = re.sub(r'^panoptic[-_.]zoo[-_.]', '', name, flags=re.I) or name
    if class_name is None:
        class_name = ''.join(part[:1].upper() + part[1:]
                             for part in re.split(r'[-_.]', stem))
        if not class_name.endswith(KINDS[kind]):
            class_name += KINDS[kind]
    if not class_name.isidentifier() or not class_name[0].isupper():
        raise ValueError(f'new-plugin --class-name {class_name!r}: expected '
                         'a CamelCase Python identifier')
    slug = re.sub(r'[-_.]+', '-', stem).lower()
    return dict(
        dist=name,
        package=package,
        class_name=class_name,
        module=_snake(class_name),
        kind=kind,
        config=f'panoptic-fpn-{slug}_r18-tiny_fpn_2k_synthetic',
        zoo_version=panoptic_zoo.__version__)


def render(text: str, fields: Dict[str, str], where: str = '') -> str:
    """Fill ``{{field}}`` placeholders.

    Raises:
        KeyError: A placeholder with no field (naming the template).
    """

    def _fill(match):
        if match.group(1) not in fields:
            raise KeyError(f'template {where}: unknown placeholder '
                           f'{match.group(0)}; known: {", ".join(fields)}')
        return fields[match.group(1)]

    return _PLACEHOLDER.sub(_fill, text)


def _check_unregistered(class_name: str) -> None:
    """A name taken in the model registry would make the plugin fail to
    load (panoptic_zoo.plugins): refuse it now."""
    from panoptic_zoo.components import list_components
    for component in list_components('model'):
        if component.name == class_name:
            raise ValueError(
                f'new-plugin: {class_name!r} is already registered by '
                f'{component.origin!r} ({component.obj.__module__}); pass '
                '--class-name with another name')


def new_plugin(name: str,
               kind: str = 'attention',
               out: str = '.',
               class_name: Optional[str] = None) -> Path:
    """Write the package ``<out>/<name>/``.

    Args:
        name (str): Distribution name (also the directory name).
        kind (str): One of :data:`KINDS`.
        out (str): Parent directory. Defaults to the current one.
        class_name (str, optional): See :func:`plugin_fields`.

    Returns:
        Path: The package directory.

    Raises:
        FileExistsError: ``<out>/<name>`` exists and is not empty.
        ValueError: See :func:`plugin_fields`; or the class name is taken.
    """
    fields = plugin_fields(name, kind, class_name)
    root = Path(out) / name
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f'new-plugin: {root} exists and is not empty')
    _check_unregistered(fields['class_name'])
    for template, target in FILES.items():
        template = template.replace('{kind}', kind)
        text = (TEMPLATES / template).read_text(encoding='utf-8')
        path = root / render(target, fields, template)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(text, fields, template), encoding='utf-8')
    return root


# ----------------------------------------------------------------- CLI
def add_new_plugin_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        'name', help='distribution name, e.g. panoptic-zoo-my-gate')
    parser.add_argument(
        '--kind',
        choices=list(KINDS),
        default='attention',
        help='component skeleton to write (default: attention)')
    parser.add_argument(
        '--out', default='.', help='parent directory (default: .)')
    parser.add_argument(
        '--class-name',
        help='registered name of the component (default: from NAME)')


def run_new_plugin(args: argparse.Namespace) -> Path:
    root = new_plugin(args.name, args.kind, args.out, args.class_name)
    fields = plugin_fields(args.name, args.kind, args.class_name)
    print(f'wrote {root}/: {args.kind} plugin {fields["class_name"]!r}\n'
          'next:\n'
          f'  pip install -e {root}   (offline: add --no-deps '
          '--no-build-isolation)\n'
          f'  python -m pytest {root}/tests\n'
          f'  panoptic-zoo info {fields["class_name"]}\n'
          f'  see {root}/README.md and docs/writing_a_plugin.md')
    return root
