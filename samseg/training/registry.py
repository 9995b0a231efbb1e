"""Find a trainer class by name without importing every module that might define one.

Trainers are looked for in samseg's ``samseg/training/trainers/`` folder and in the places
named by the environment variable ``SAMSEG_extTrainer``: folders of ``.py`` files or dotted
module (or package) paths, separated by ``os.pathsep`` (``:`` on Linux). The source files are
parsed with :mod:`ast`: a class is a trainer when its base classes lead, by name, to
:class:`~samseg.training.trainer.SAMTrainer`. Only the module that defines the requested class
is imported.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from samseg.errors import SamsegConfigError, SamsegInputError

EXTENSION_ENV = "SAMSEG_extTrainer"
BASE_TRAINER_NAME = "SAMTrainer"
BUILT_IN_PACKAGE = "samseg.training.trainers"
BUILT_IN_FOLDER = Path(__file__).with_name("trainers")
EXTERNAL_MODULE_PREFIX = "samseg_external_trainers"


@dataclass(frozen=True)
class TrainerEntry:
    """One trainer class found in source code (not imported yet).

    Attributes:
        name: class name, what ``-tr`` takes.
        description: first line of the class docstring.
        module: module name to import (``samseg.training.trainers.lora``), or ``None`` for a
            file in a user folder, imported from ``path``.
        path: the source file.
    """

    name: str
    description: str
    module: str | None
    path: Path


@dataclass(frozen=True)
class _ClassSource:
    name: str
    bases: tuple[str, ...]
    description: str
    module: str | None
    path: Path


def available_trainers(environ: Mapping[str, str] | None = None) -> list[TrainerEntry]:
    """Every trainer in samseg and in ``SAMSEG_extTrainer``, sorted by name.

    Raises:
        SamsegConfigError: a ``SAMSEG_extTrainer`` entry names neither a folder nor a module.
    """
    classes = list(_scanned_classes(environ))
    bases = {source.name: source.bases for source in classes}
    return sorted(
        (
            TrainerEntry(source.name, source.description, source.module, source.path)
            for source in classes
            if _is_trainer(source.name, bases, set())
        ),
        key=lambda entry: entry.name,
    )


def trainer_class(name: str, environ: Mapping[str, str] | None = None) -> type:
    """The trainer class called ``name``; only its defining module is imported.

    Raises:
        SamsegInputError: no trainer (or more than one) has that name; the message lists the
            available trainers with their descriptions.
    """
    entries = available_trainers(environ)
    matches = [entry for entry in entries if entry.name == name]
    if not matches:
        raise SamsegInputError(
            f"-tr {name}: expected the name of a trainer, found no such trainer. "
            f"Available trainers:\n{format_trainer_list(entries)}\n"
            f"(add your own with {EXTENSION_ENV}=<folder or module>)"
        )
    if len(matches) > 1:
        places = ", ".join(str(entry.path) for entry in matches)
        raise SamsegInputError(f"-tr {name}: expected one trainer, found several in {places}")
    return _load_class(matches[0])


def format_trainer_list(entries: list[TrainerEntry]) -> str:
    """One line per trainer: name, padded, then its description."""
    if not entries:
        return "  (none)"
    width = max(len(entry.name) for entry in entries)
    return "\n".join(f"  {entry.name:<{width}}  {entry.description}" for entry in entries)


def _is_trainer(name: str, bases: Mapping[str, tuple[str, ...]], seen: set[str]) -> bool:
    if name in seen:
        return False
    seen.add(name)
    return any(
        base == BASE_TRAINER_NAME or (base in bases and _is_trainer(base, bases, seen))
        for base in bases.get(name, ())
    )


def _scanned_classes(environ: Mapping[str, str] | None) -> Iterator[_ClassSource]:
    yield from _classes_in_folder(BUILT_IN_FOLDER, BUILT_IN_PACKAGE)
    environ = os.environ if environ is None else environ
    for entry in filter(None, environ.get(EXTENSION_ENV, "").split(os.pathsep)):
        folder = Path(entry).expanduser()
        if folder.is_dir():
            yield from _classes_in_folder(folder, None)
        else:
            yield from _classes_in_module(entry.strip())


def _classes_in_module(module: str) -> Iterator[_ClassSource]:
    """Classes of a dotted module path, or of every module of a dotted package path."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or (spec.origin is None and not spec.submodule_search_locations):
        raise SamsegConfigError(
            f"{EXTENSION_ENV}: expected folders or dotted module paths, found {module!r}, "
            "which is neither an existing folder nor an importable module"
        )
    if spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            yield from _classes_in_folder(Path(location), module)
    elif spec.origin and spec.origin.endswith(".py"):
        yield from _classes_in_file(Path(spec.origin), module)


def _classes_in_folder(folder: Path, package: str | None) -> Iterator[_ClassSource]:
    """Classes in the ``.py`` files of ``folder`` (sub-folders too for user folders)."""
    files = sorted(folder.glob("*.py") if package else folder.rglob("*.py"))
    for path in files:
        if path.name.startswith("_"):
            continue
        yield from _classes_in_file(path, f"{package}.{path.stem}" if package else None)


def _classes_in_file(path: Path, module: str | None) -> Iterator[_ClassSource]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError) as error:
        raise SamsegConfigError(f"{path}: expected readable Python source, found {error}") from None
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            docstring = ast.get_docstring(node) or ""
            description = docstring.strip().splitlines()[0] if docstring.strip() else ""
            yield _ClassSource(
                node.name,
                tuple(name for base in node.bases if (name := _base_name(base))),
                description or "(no description)",
                module,
                path,
            )


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _load_class(entry: TrainerEntry) -> type:
    from samseg.training.trainer import SAMTrainer

    module = (
        importlib.import_module(entry.module)
        if entry.module is not None
        else _import_file(entry.path)
    )
    found = getattr(module, entry.name, None)
    if not (isinstance(found, type) and issubclass(found, SAMTrainer)):
        raise SamsegInputError(
            f"{entry.path}: expected {entry.name} to be a subclass of {BASE_TRAINER_NAME} "
            f"after import, found {found!r}"
        )
    return found


def _import_file(path: Path) -> ModuleType:
    """Import a user's trainer file under a unique module name (once per process)."""
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    name = f"{EXTERNAL_MODULE_PREFIX}_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SamsegConfigError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
