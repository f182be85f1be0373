"""Catch config typos when the config is loaded, not hours into training.

MMEngine merges ``--cfg-options`` blindly: ``trian_cfg.max_iters=1`` adds a
key nobody reads, ``model.test_cfg.rcnn.score_thrr=0.9`` sets a threshold no
head looks at, and ``default_hooks.checkpoint.max_keep_ckpt=3`` passes the
hook's ``**kwargs`` until the first save calls ``torch.save`` with it. Here

* an override must name a key the config already has, or a parameter of the
  class its dict builds (``type``), or a Runner argument at the top level;
  otherwise it is an error with the closest valid key;
* an override may not turn a number into text (``max_iters=abc``);
* every hook config and the loop configs are checked against their
  constructors' signatures (and, for checkpoint hooks, the arguments
  ``Runner.save_checkpoint`` takes), with the same suggestions.
"""
import difflib
import inspect
import typing
from typing import Any, Iterable, List, Optional

from mmengine.config import Config
from mmengine.hooks import CheckpointHook, Hook
from mmengine.runner import Runner


class ConfigKeyError(ValueError):
    """A config key or value that nothing would read correctly."""


# Top-level keys Runner.from_cfg and Runner.train read, besides __init__'s.
_EXTRA_TOP_LEVEL = ('custom_imports', 'compile', 'activation_checkpointing',
                    'efficient_conv_bn_eval', 'gpu_ids')


def top_level_keys() -> List[str]:
    params = inspect.signature(Runner.__init__).parameters
    return [p for p in params if p != 'self'] + list(_EXTRA_TOP_LEVEL)


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ''


def _registries() -> list:
    from panoptic_zoo import registry
    return [
        registry.MODELS, registry.TASK_UTILS, registry.HOOKS, registry.LOOPS,
        registry.OPTIM_WRAPPERS, registry.OPTIMIZERS,
        registry.PARAM_SCHEDULERS, registry.DATASETS, registry.TRANSFORMS,
        registry.DATA_SAMPLERS, registry.METRICS, registry.VISUALIZERS,
        registry.VISBACKENDS, registry.LOG_PROCESSORS
    ]


def resolve_type(type_: Any, registries: Optional[list] = None):
    """The class or function ``type_`` names, or None if unknown."""
    if not isinstance(type_, str):
        return type_ if callable(type_) else None
    for registry in registries or _registries():
        found = registry.get(type_)
        if found is not None:
            return found
    return None


def _signature(target) -> Optional[inspect.Signature]:
    try:
        return inspect.signature(
            target.__init__ if inspect.isclass(target) else target)
    except (TypeError, ValueError):
        return None


def accepted_keys(target) -> Optional[List[str]]:
    """Keyword names ``target`` accepts; None if it takes ``**kwargs``
    (anything goes) or has no readable signature."""
    signature = _signature(target)
    if signature is None:
        return None
    params = signature.parameters
    names = [
        n for n, p in params.items()
        if n != 'self' and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        if inspect.isclass(target) and issubclass(target, CheckpointHook):
            # Its **kwargs go to Runner.save_checkpoint.
            extra = inspect.signature(Runner.save_checkpoint).parameters
            return names + [
                n for n in extra if n not in ('self', 'out_dir', 'filename')
            ]
        return None
    return names


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _expects_number(param: inspect.Parameter) -> bool:
    annotation = param.annotation
    options = typing.get_args(annotation) or (annotation, )
    if any(o in (int, float) for o in options):
        return all(o in (int, float, type(None)) for o in options)
    return _is_number(param.default)


def check_typed_dict(cfg: dict, where: str, registries=None) -> None:
    """Check the keys and numeric values of one ``dict(type=...)``."""
    target = resolve_type(cfg.get('type'), registries)
    if target is None:
        return  # unknown types fail when built, with the registry's message
    keys = accepted_keys(target)
    signature = _signature(target)
    for key, value in cfg.items():
        if key in ('type', 'priority', '_scope_'):
            continue
        if keys is not None and key not in keys:
            raise ConfigKeyError(
                f'{where}.{key}: {cfg["type"]} has no argument {key!r}'
                f'{_suggest(key, keys)}; valid: {", ".join(keys)}')
        param = signature.parameters.get(key) if signature else None
        if (param is not None and isinstance(value, str)
                and _expects_number(param)):
            raise ConfigKeyError(
                f'{where}.{key}={value!r}: {cfg["type"]} expects a number')


def check_hooks_and_loops(cfg: Config) -> None:
    """Hook and loop arguments, checked against their constructors."""
    from panoptic_zoo import registry
    for name, hook in (cfg.get('default_hooks') or {}).items():
        if isinstance(hook, dict):
            check_typed_dict(hook, f'default_hooks.{name}', [registry.HOOKS])
    for index, hook in enumerate(cfg.get('custom_hooks') or []):
        if isinstance(hook, dict):
            check_typed_dict(hook, f'custom_hooks[{index}]', [registry.HOOKS])
    for name in ('train_cfg', 'val_cfg', 'test_cfg'):
        loop = cfg.get(name)
        if isinstance(loop, dict) and 'type' in loop:
            check_typed_dict(loop, name, [registry.LOOPS])


def _new_key_allowed(node: dict, key: str, at_root: bool) -> List[str]:
    """Keys that may be added to ``node``; contains ``key`` if it may."""
    if at_root:
        return list(node) + top_level_keys()
    target = resolve_type(node.get('type')) if 'type' in node else None
    if target is None:
        return list(node)
    accepted = accepted_keys(target)
    if accepted is None:
        return list(node) + [key]  # **kwargs: cannot tell, let it through
    if inspect.isclass(target) and issubclass(target, Hook):
        accepted.append('priority')  # Runner.register_hook reads it
    return list(node) + accepted


def check_option(cfg: Config, dotted: str, value: Any) -> None:
    """One ``--cfg-options key=value`` against the loaded config."""
    node: Any = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    parts = dotted.split('.')
    for depth, part in enumerate(parts):
        here = '.'.join(parts[:depth + 1])
        if isinstance(node, (list, tuple)):
            if not (part.isdigit() and int(part) < len(node)):
                raise ConfigKeyError(
                    f'--cfg-options {dotted}: {here} is not an index of a '
                    f'list of {len(node)}')
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            raise ConfigKeyError(
                f'--cfg-options {dotted}: {".".join(parts[:depth])} is '
                f'{node!r}, not a dict')
        if part in node:
            node = node[part]
            continue
        allowed = _new_key_allowed(node, part, depth == 0)
        if part in allowed:
            return  # a new key its reader accepts; the subtree is new too
        parent = '.'.join(parts[:depth]) or 'the config'
        raise ConfigKeyError(
            f'--cfg-options {dotted}: {parent} has no key {part!r}'
            f'{_suggest(part, allowed)}')
    if _is_number(node) and isinstance(value, str):
        raise ConfigKeyError(
            f'--cfg-options {dotted}={value}: expected a number (the config '
            f'has {node!r})')


def check_and_merge(cfg: Config, options: Optional[dict]) -> None:
    """Check ``options`` against ``cfg``, merge them, check hooks/loops."""
    for dotted, value in (options or {}).items():
        check_option(cfg, dotted, value)
    if options:
        cfg.merge_from_dict(options)
    check_hooks_and_loops(cfg)
