"""Discovery of third-party plugin packages.

An installed distribution becomes a panoptic_zoo plugin by declaring an entry
point in the group ``panoptic_zoo.plugins`` whose value is a module::

    [options.entry_points]
    panoptic_zoo.plugins =
        my_plugin = my_plugin_package

Importing that module registers its components. **Scope:** plugins register
into *our* registries (``panoptic_zoo.registry``, scope ``panoptic_zoo``), so
``type='TheirName'`` works in every panoptic_zoo config with no prefix and no
``custom_imports``; a plugin has no scope of its own. Because every plugin
shares one namespace with panoptic_zoo and the mmdet / MMEngine parents it
falls back to, a name may be taken only once: a plugin that registers a name
panoptic_zoo, mmdet, MMEngine or another plugin already holds is an error
naming both packages (a plugin silently replacing ``FPN`` would change the
meaning of every existing config). The distribution each name came from is
recorded (:func:`plugin_origin`), and ``panoptic-zoo list`` shows it.

Loading happens once, lazily: at the end of ``import panoptic_zoo.models``
(which MMEngine runs the first time the MODELS registry is used, e.g. when a
runner builds its model) and in ``register_all_modules()``. MMEngine's
``custom_imports`` keeps working beside it: a module imported that way
registers into the same registries.

Environment:

- ``PANOPTIC_ZOO_DISABLE_PLUGINS=1``: load no plugin.
- ``PANOPTIC_ZOO_PLUGINS=dist-a,dist-b``: load only these distributions.
- ``PANOPTIC_ZOO_PLUGINS_STRICT=1``: a plugin that fails to import is an
  error (:class:`PluginImportError`) instead of a :class:`PluginWarning`;
  ``load_plugins(strict=True)`` does the same.
"""
import contextlib
import functools
import importlib
import importlib.metadata
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, NamedTuple, Optional, Tuple

from mmengine.registry import Registry

from panoptic_zoo import registry as _registry_module
from panoptic_zoo.registry import SCOPE

GROUP = 'panoptic_zoo.plugins'
ENV_DISABLE = 'PANOPTIC_ZOO_DISABLE_PLUGINS'
ENV_ALLOW = 'PANOPTIC_ZOO_PLUGINS'
ENV_STRICT = 'PANOPTIC_ZOO_PLUGINS_STRICT'


class PluginWarning(UserWarning):
    """A plugin was not loaded (import failure, unknown allow-list name)."""


class PluginImportError(ImportError):
    """A plugin failed to import and loading is strict."""


class PluginConflictError(ValueError):
    """Two packages register the same component name."""


class EntryPointSpec(NamedTuple):
    """One ``panoptic_zoo.plugins`` entry point of an installed package."""
    distribution: str
    version: str
    name: str
    module: str


@dataclass
class PluginRecord:
    """What happened to one entry point.

    Attributes:
        spec (EntryPointSpec): The entry point.
        status (str): ``'loaded'``, ``'failed'`` or ``'skipped'``.
        reason (str): The exception (failed) or why it was skipped.
        components (list[tuple[str, str]]): ``(kind, name)`` of every
            component it registered, ``kind`` as in :func:`registry_kinds`.
        error (Exception, optional): The import's exception, if it failed.
    """
    spec: EntryPointSpec
    status: str = 'pending'
    reason: str = ''
    components: List[Tuple[str, str]] = field(default_factory=list)
    error: Optional[Exception] = field(default=None, repr=False)


class _State:
    """Module state; tests swap it for a fresh one."""

    def __init__(self) -> None:
        self.loading = False
        self.loaded = False
        self.records: List[PluginRecord] = []
        self.origins: Dict[Tuple[str, str], str] = {}
        self.conflict: Optional[PluginConflictError] = None


_STATE = _State()


def normalize(name: str) -> str:
    """PEP 503 form of a distribution name: ``Foo_Bar`` → ``foo-bar``."""
    return re.sub(r'[-_.]+', '-', name).lower()


def registry_kinds() -> Dict[str, Registry]:
    """Our registries by kind: ``MODELS`` → ``'model'``,
    ``PARAM_SCHEDULERS`` → ``'param_scheduler'``, ``EVALUATOR`` →
    ``'evaluator'``."""
    kinds = {}
    for attr, value in vars(_registry_module).items():
        if isinstance(value, Registry) and value.scope == SCOPE:
            kind = attr.lower()
            kinds[kind[:-1] if kind.endswith('s') else kind] = value
    return kinds


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, '').strip().lower()
    if value in ('', '0', 'false', 'no', 'off'):
        return False
    if value in ('1', 'true', 'yes', 'on'):
        return True
    raise ValueError(f'environment variable {name}={value!r}: expected 1 or '
                     '0 (true/false, yes/no, on/off)')


def _discover() -> List[EntryPointSpec]:
    """Every ``panoptic_zoo.plugins`` entry point of the installed packages.

    Reads the distributions directly (works on Python 3.9, where entry points
    carry no distribution); the first of duplicate installs wins, as for
    imports.
    """
    specs, seen = [], set()
    for dist in importlib.metadata.distributions():
        name = dist.metadata['Name']
        if not name or normalize(name) in seen:
            continue
        seen.add(normalize(name))
        for entry_point in dist.entry_points:
            if entry_point.group == GROUP:
                specs.append(
                    EntryPointSpec(name, dist.version, entry_point.name,
                                   entry_point.value.split(':')[0].strip()))
    return sorted(specs, key=lambda s: (normalize(s.distribution), s.name))


@functools.lru_cache(maxsize=None)
def _distributions_of_packages() -> Dict[str, List[str]]:
    return importlib.metadata.packages_distributions()


def module_origin(module_name: str) -> str:
    """Distribution that ships the module ``module_name`` (``mmdet.models``
    → ``mmdet``), or its top-level package if no distribution claims it."""
    top = module_name.split('.')[0]
    dists = _distributions_of_packages().get(top)
    return dists[0] if dists else top


def component_origin(kind: str, name: str, obj: object) -> str:
    """The distribution a registered component comes from."""
    origin = plugin_origin(kind, name)
    return origin or module_origin(getattr(obj, '__module__', '') or '?')


def plugin_origin(kind: str, name: str) -> Optional[str]:
    """The plugin distribution that registered ``name`` in the ``kind``
    registry, or None if no plugin loaded by us did."""
    return _STATE.origins.get((kind, name))


def plugin_records() -> List[PluginRecord]:
    """Records of every discovered entry point (loads plugins first)."""
    load_plugins()
    return list(_STATE.records)


def _visible(registry: Registry, name: str) -> Optional[object]:
    """What ``name`` resolves to from ``registry`` (itself, then parents)."""
    while registry is not None:
        if name in registry._module_dict:
            return registry._module_dict[name]
        registry = registry.parent
    return None


def _conflict(spec: EntryPointSpec, kind: str, name: str, module: object,
              existing: object) -> PluginConflictError:
    where = f'{existing.__module__}.{existing.__qualname__}' if hasattr(
        existing, '__qualname__') else repr(existing)
    other = component_origin(kind, name, existing)
    return PluginConflictError(
        f'panoptic_zoo plugin conflict: {name!r} in the {kind} registry is '
        f'registered by both {other!r} ({where}) and plugin '
        f'{spec.distribution!r} ({module.__module__}.'
        f'{getattr(module, "__qualname__", name)}, entry point '
        f'{spec.name!r} in group {GROUP!r}). Names are shared by '
        'panoptic_zoo, mmdet, MMEngine and every plugin: rename one '
        '(register_module(name=...)), uninstall one, or load only one with '
        f'{ENV_ALLOW}=<distribution>.')


@contextlib.contextmanager
def _recording(record: PluginRecord):
    """Check and record every registration into our scope while a plugin
    imports. Patching the class catches all of our registries at once, and
    the check must run *before* MMEngine's, whose error would name only the
    module already registered."""
    kinds = {id(reg): kind for kind, reg in registry_kinds().items()}
    original = Registry._register_module

    def _register_module(registry, module, module_name=None, force=False):
        kind = kinds.get(id(registry))
        if kind is None or not callable(module):
            return original(registry, module, module_name, force)
        if module_name is None:
            names = [module.__name__]
        elif isinstance(module_name, str):
            names = [module_name]
        else:
            names = list(module_name)
        for name in names:
            existing = _visible(registry, name)
            if existing is not None and existing is not module:
                raise _conflict(record.spec, kind, name, module, existing)
        original(registry, module, module_name, force)
        for name in names:
            record.components.append((kind, name))
            _STATE.origins[(kind, name)] = record.spec.distribution

    Registry._register_module = _register_module
    try:
        yield
    finally:
        Registry._register_module = original


def _forget(record: PluginRecord) -> None:
    """Remove what a plugin registered before its import failed, so a
    half-imported plugin leaves no component behind."""
    kinds = registry_kinds()
    for kind, name in record.components:
        kinds[kind]._module_dict.pop(name, None)
        _STATE.origins.pop((kind, name), None)
    record.components.clear()


def _selected(specs: List[EntryPointSpec]) -> List[PluginRecord]:
    """Records for ``specs``; the ones the environment excludes skipped."""
    records = [PluginRecord(spec) for spec in specs]
    if _env_flag(ENV_DISABLE):
        for record in records:
            record.status = 'skipped'
            record.reason = f'{ENV_DISABLE}=1'
        return records
    allow = os.environ.get(ENV_ALLOW, '').strip()
    if not allow:
        return records
    wanted = {normalize(n.strip()) for n in allow.split(',') if n.strip()}
    installed = {normalize(s.distribution) for s in specs}
    for missing in sorted(wanted - installed):
        warnings.warn(
            f'{ENV_ALLOW}={allow!r} names {missing!r}, which is not an '
            'installed panoptic_zoo plugin (installed: '
            f'{", ".join(sorted(installed)) or "none"})', PluginWarning)
    for record in records:
        if normalize(record.spec.distribution) not in wanted:
            record.status = 'skipped'
            record.reason = f'not in {ENV_ALLOW}={allow!r}'
    return records


def _failure(record: PluginRecord) -> str:
    spec = record.spec
    return (f'panoptic_zoo plugin {spec.distribution!r} {spec.version} '
            f'(entry point {spec.name!r} = {spec.module!r}) failed to '
            f'import: {record.reason}')


def _adopt(record: PluginRecord) -> None:
    """Attribute to a plugin imported before we loaded it (a test module,
    ``custom_imports``) the components of its top-level package, and check
    them against the parents' names after the fact."""
    package = record.spec.module.split('.')[0]
    for kind, registry in registry_kinds().items():
        for name, obj in list(registry._module_dict.items()):
            owner = (getattr(obj, '__module__', None) or '').split('.')[0]
            if owner != package or (kind, name) in _STATE.origins:
                continue
            existing = _visible(registry.parent, name)
            if existing is not None:
                raise _conflict(record.spec, kind, name, obj, existing)
            record.components.append((kind, name))
            _STATE.origins[(kind, name)] = record.spec.distribution


def _load_one(record: PluginRecord, strict: bool) -> None:
    """Import one plugin; a conflict propagates, other errors are kept."""
    try:
        imported_before = record.spec.module in sys.modules
        with _recording(record):
            importlib.import_module(record.spec.module)
        if imported_before:
            _adopt(record)
    except PluginConflictError as exc:
        _forget(record)
        record.status, record.reason, record.error = 'failed', str(exc), exc
        _STATE.conflict = exc
        raise
    except Exception as exc:  # a plugin may fail in any way: report it
        _forget(record)
        record.status, record.error = 'failed', exc
        record.reason = f'{type(exc).__name__}: {exc}'
        if not strict:
            warnings.warn(
                f'{_failure(record)}. Its components are not registered; '
                f'set {ENV_STRICT}=1 to make this an error, or skip it with '
                f'{ENV_DISABLE}=1 or {ENV_ALLOW}=<other distributions>',
                PluginWarning)
    else:
        record.status = 'loaded'


def load_plugins(strict: Optional[bool] = None) -> List[PluginRecord]:
    """Import every plugin package once; later calls return the records.

    Args:
        strict (bool, optional): Raise :class:`PluginImportError` when a
            plugin failed to import instead of warning. Defaults to the
            ``PANOPTIC_ZOO_PLUGINS_STRICT`` environment variable. A strict
            call after a lenient load raises for the failures it recorded.

    Returns:
        list[PluginRecord]: One per discovered entry point.

    Raises:
        PluginConflictError: Two packages register the same name (always,
            and again on every later call).
        PluginImportError: A plugin failed to import and ``strict``; every
            other plugin has been loaded first.
    """
    strict = _env_flag(ENV_STRICT) if strict is None else strict
    if _STATE.loading:
        # A plugin imported panoptic_zoo.models, which loads plugins.
        return list(_STATE.records)
    if not _STATE.loaded:
        _STATE.loading = True
        try:
            # All of ours first: plugins may subclass them, and a name is
            # checked against everything registered.
            for registry in registry_kinds().values():
                registry.import_from_location()
            _STATE.records = _selected(_discover())
            for record in _STATE.records:
                if record.status == 'pending':
                    _load_one(record, strict)
        finally:
            _STATE.loading = False
            _STATE.loaded = True
    if _STATE.conflict is not None:
        raise _STATE.conflict
    failed = [r for r in _STATE.records if r.status == 'failed']
    if strict and failed:
        raise PluginImportError('; '.join(map(_failure,
                                              failed))) from failed[0].error
    return list(_STATE.records)
