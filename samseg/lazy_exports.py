"""Package namespaces that import a submodule only when one of its names is first used.

A command's ``--help`` should not pay for torch, peft and transformers: package
``__init__`` files declare what they export, module by module, and :func:`lazy_exports`
returns the module-level ``__getattr__`` and ``__dir__`` that import on first access
(PEP 562). ``from samseg.training import train`` works as before.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose ``exports`` map each submodule
    (relative name, ``"run"``) to the names it provides."""
    owners = {name: module for module, names in exports.items() for name in names}

    def get_attribute(name: str) -> Any:
        module = owners.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def list_names() -> list[str]:
        return sorted(owners)

    return get_attribute, list_names


def exported_names(exports: Mapping[str, Sequence[str]]) -> list[str]:
    """Every exported name, sorted: a package's ``__all__``."""
    return sorted(name for names in exports.values() for name in names)
