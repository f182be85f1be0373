"""The zoo's configs ship inside the package, as mmdet's do
(``panoptic_zoo/.mim/configs``; ``configs/`` in a checkout links there).

A config is named by a path on disk, by ``panoptic_zoo::<dir>/<file>.py``
(MMEngine's package scope: a user's config anywhere can inherit a zoo
config with ``_base_ = 'panoptic_zoo::panoptic_fpn/<file>.py'``), by
``<dir>/<file>.py`` under the zoo's configs, or by the file's stem alone.
"""
import difflib
import os.path as osp
from pathlib import Path
from typing import List, Optional

CONFIG_ROOT = Path(__file__).resolve().parent / '.mim' / 'configs'
SCOPE = 'panoptic_zoo'
PREFIX = f'{SCOPE}::'


def zoo_config_names() -> List[str]:
    """Every zoo config as ``<dir>/<file>.py``, sorted (bases left out)."""
    return sorted(
        p.relative_to(CONFIG_ROOT).as_posix()
        for p in CONFIG_ROOT.glob('*/*.py') if p.parent.name != '_base_')


def _stem(name: str) -> str:
    return osp.splitext(osp.basename(name))[0]


def _closest(name: str) -> List[str]:
    """Zoo config names close to ``name`` (as a path, else as a stem)."""
    names = zoo_config_names()
    return difflib.get_close_matches(
        name, names, n=3, cutoff=0.5) or difflib.get_close_matches(
            _stem(name), [_stem(n) for n in names], n=3, cutoff=0.5)


def zoo_config(relative: str) -> str:
    """Absolute path of the zoo config ``<dir>/<file>.py``.

    Raises:
        FileNotFoundError: naming the closest zoo configs.
    """
    path = CONFIG_ROOT / relative
    if path.is_file():
        return str(path)
    close = _closest(relative)
    raise FileNotFoundError(
        f'no zoo config {relative!r}' +
        (f'; did you mean {", ".join(close)}?' if close else
         f'; the zoo configs are under {CONFIG_ROOT}'))


def resolve_config(name: str, option: str = 'config') -> str:
    """The file ``name`` stands for (see the module docstring).

    Raises:
        FileNotFoundError: naming ``option``, ``name`` and the closest zoo
            configs.
    """
    if osp.isfile(name):
        return osp.abspath(name)
    relative = name[len(PREFIX):] if name.startswith(PREFIX) else name
    if (CONFIG_ROOT / relative).is_file():
        return str(CONFIG_ROOT / relative)
    matches = [n for n in zoo_config_names() if _stem(n) == _stem(relative)]
    if len(matches) == 1 and not osp.dirname(relative):  # a bare stem
        return str(CONFIG_ROOT / matches[0])
    close = _closest(relative)
    raise FileNotFoundError(
        f'{option}: config not found: {name} (not a file, nor a zoo config' +
        (f'; did you mean {", ".join(close)}?)' if close else
         f'; the zoo configs are under {CONFIG_ROOT})'))


def zoo_name(path: str) -> Optional[str]:
    """``<dir>/<file>.py`` if ``path`` is a zoo config, else None."""
    try:
        return Path(path).resolve().relative_to(
            CONFIG_ROOT.resolve()).as_posix()
    except ValueError:
        return None


def enable_package_scope() -> None:
    """Let MMEngine resolve ``panoptic_zoo::`` config paths.

    MMEngine knows a fixed set of OpenMMLab packages
    (``MODULE2PACKAGE``) and finds their configs under the installed
    package's ``.mim/configs``; its checks of the installation go through
    ``pkg_resources`` (absent from current setuptools) and the
    distribution's location (not the package folder for an editable
    install). Both are answered for this package from the package itself.
    """
    from mmengine.config import config as config_module
    from mmengine.config import utils
    if utils.MODULE2PACKAGE.get(SCOPE) == SCOPE:
        return
    utils.MODULE2PACKAGE[SCOPE] = SCOPE
    is_installed = config_module.is_installed
    installed_path = config_module.get_installed_path

    def is_installed_here(package: str) -> bool:
        return package == SCOPE or is_installed(package)

    def get_installed_path(package: str) -> str:
        if package == SCOPE:
            return str(CONFIG_ROOT.parents[1])
        return installed_path(package)

    config_module.is_installed = is_installed_here
    config_module.get_installed_path = get_installed_path
