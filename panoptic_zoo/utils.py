"""Environment set-up: register every component and set the default scope.

MMEngine falls back to ``<scope>.utils.register_all_modules`` for registries
without locations; we keep the same entry point for users and tools.
"""
from mmengine.registry import DefaultScope

from .registry import SCOPE


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import all panoptic_zoo (and mmdet) components into the registries.

    Args:
        init_default_scope (bool): Also make ``panoptic_zoo`` the current
            default scope, so ``MODELS.build`` from MMEngine's root registry
            resolves our names. Defaults to True.
    """
    import panoptic_zoo.datasets  # noqa: F401
    import panoptic_zoo.engine  # noqa: F401
    import panoptic_zoo.evaluation  # noqa: F401
    import panoptic_zoo.models  # noqa: F401
    import panoptic_zoo.visualization  # noqa: F401
    from .plugins import load_plugins
    load_plugins()

    if init_default_scope and (
            DefaultScope.get_current_instance() is None
            or DefaultScope.get_current_instance().scope_name != SCOPE):
        DefaultScope.get_instance(
            f'{SCOPE}-{id(register_all_modules)}', scope_name=SCOPE)
