"""Find a trainer class by name without importing every module that might define one.

Trainers are looked for in samseg's ``samseg/training/trainers/`` package (sub-packages
included) and in the places named by the environment variable ``SAMSEG_extTrainer``: folders
of ``.py`` files (searched recursively) or dotted module (or package) paths, separated by
``os.pathsep`` (``:`` on Linux). The source files are parsed with :mod:`ast`: a class is a
trainer when its base classes lead to :class:`~samseg.training.trainer.SAMTrainer`, either by
name among the scanned classes or through the module a base is imported from (``from
lab.bases import LabTrainer``, relative imports too), whose source is found on ``sys.path``
and parsed without importing it. Only the module that defines the requested class is
imported (and, by Python, the modules it imports).
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
    """One class statement: its base names and the ``name -> (module, name)`` imports of its
    file, by which a base defined in an unscanned module is found."""

    name: str
    bases: tuple[str, ...]
    description: str
    module: str | None
    path: Path
    imports: Mapping[str, tuple[str, str]]


def available_trainers(environ: Mapping[str, str] | None = None) -> list[TrainerEntry]:
    """Every trainer in samseg and in ``SAMSEG_extTrainer``, sorted by name.

    Raises:
        SamsegConfigError: a ``SAMSEG_extTrainer`` entry names neither a folder nor a module.
    """
    classes = list(_scanned_classes(environ))
    by_name: dict[str, list[_ClassSource]] = {}
    for source in classes:
        by_name.setdefault(source.name, []).append(source)
    return sorted(
        (
            TrainerEntry(source.name, source.description, source.module, source.path)
            for source in classes
            if _is_trainer(source, by_name, set())
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


def _is_trainer(
    source: _ClassSource, by_name: Mapping[str, list[_ClassSource]], seen: set[tuple]
) -> bool:
    """Whether ``source``'s bases lead to SAMTrainer (by scanned name, or by import)."""
    if (source.path, source.name) in seen:
        return False
    seen.add((source.path, source.name))
    for base in source.bases:
        if base == BASE_TRAINER_NAME:
            return True
        candidates = by_name.get(base, [])
        if base in source.imports:
            module, name = source.imports[base]
            candidates = _imported_classes(module, name) or candidates
        if any(_is_trainer(candidate, by_name, seen) for candidate in candidates):
            return True
    return False


def _imported_classes(module: str, name: str) -> list[_ClassSource]:
    """The class ``name`` defined in ``module``'s source, found without importing it."""
    path = _module_file(module)
    if path is None:
        return []
    return [source for source in _classes_in_file(path, module) if source.name == name]


def _module_file(module: str) -> Path | None:
    """``module``'s source file on ``sys.path`` (``a/b.py`` or ``a/b/__init__.py``), or
    ``None``; nothing is imported."""
    parts = module.split(".")
    for entry in sys.path:
        base = Path(entry or ".").joinpath(*parts)
        for candidate in (base.with_name(f"{parts[-1]}.py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _scanned_classes(environ: Mapping[str, str] | None) -> Iterator[_ClassSource]:
    yield from _classes_in_folder(BUILT_IN_FOLDER, BUILT_IN_PACKAGE, recursive=True)
    environ = os.environ if environ is None else environ
    for entry in filter(None, environ.get(EXTENSION_ENV, "").split(os.pathsep)):
        folder = Path(entry).expanduser()
        if folder.is_dir():
            yield from _classes_in_folder(folder, None, recursive=True)
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
            yield from _classes_in_folder(Path(location), module, recursive=True)
    elif spec.origin and spec.origin.endswith(".py"):
        yield from _classes_in_file(Path(spec.origin), module)


def _classes_in_folder(
    folder: Path, package: str | None, *, recursive: bool
) -> Iterator[_ClassSource]:
    """Classes in the ``.py`` files of ``folder`` (and its sub-folders when ``recursive``);
    with ``package``, a file's module is ``package`` plus its relative path, dotted."""
    files = sorted(folder.rglob("*.py") if recursive else folder.glob("*.py"))
    for path in files:
        relative = path.relative_to(folder)
        if any(part.startswith("_") for part in relative.parts):
            continue
        module = ".".join([package, *relative.with_suffix("").parts]) if package else None
        yield from _classes_in_file(path, module)


def _classes_in_file(path: Path, module: str | None) -> Iterator[_ClassSource]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError) as error:
        raise SamsegConfigError(f"{path}: expected readable Python source, found {error}") from None
    imports = _file_imports(tree, module, is_package=path.name == "__init__.py")
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
                imports,
            )


def _file_imports(
    tree: ast.Module, module: str | None, *, is_package: bool
) -> dict[str, tuple[str, str]]:
    """Top-level ``from M import N [as A]`` of a file: ``A -> (M, N)``; relative imports are
    resolved against ``module``'s package (skipped for files outside a package)."""
    package = None
    if module is not None:
        package = module if is_package else module.rpartition(".")[0]
    found: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        source = node.module or ""
        if node.level:
            if package is None:
                continue
            parts = package.split(".")
            anchor = parts[: len(parts) - node.level + 1]
            source = ".".join(filter(None, [*anchor, source]))
        for alias in node.names:
            found[alias.asname or alias.name] = (source, alias.name)
    return found


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
