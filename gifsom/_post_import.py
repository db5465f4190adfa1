"""Registers gifsom with matplotlib and imageio, when (and only when) the user imports them.

Importing matplotlib.animation or imageio costs 0.2 s or more, so ``import gifsom``
does not do it. Instead a finder on ``sys.meta_path`` waits for those modules:
once one has run, gifsom adds its writer to matplotlib's registry (``writer="gifsom"``)
or its plugin to imageio's (``plugin="gifsom"``). A module already imported is
registered at once.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

#: Module whose import triggers a registration -> "module:function" that registers.
HOOKS = {
    "matplotlib.animation": "gifsom.matplotlib:register",
    "imageio.config.plugins": "gifsom.imageio:register",
}


def _register(target: str) -> None:
    module_name, function = HOOKS[target].split(":")
    module = sys.modules.get(module_name)
    if module is not None and not hasattr(module, function):
        return    # gifsom's own module is importing the hooked one: it registers itself when it is done
    getattr(importlib.import_module(module_name), function)()


class _LoaderThenRegister(importlib.abc.Loader):
    """Runs the real loader, then gifsom's registration for the module."""

    def __init__(self, loader: importlib.abc.Loader, target: str) -> None:
        self.loader = loader
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _register(self.target)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds the hooked modules through the other finders and wraps their loaders."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in HOOKS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _LoaderThenRegister(spec.loader, fullname)
                return spec
        return None


def install() -> None:
    """Register now with what is imported already, and later with what is imported later."""
    if not any(isinstance(finder, _AfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport())
    for target in HOOKS:
        if target in sys.modules:
            _register(target)
