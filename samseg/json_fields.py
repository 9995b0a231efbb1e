"""Typed reading of one JSON object of a hand-editable file, naming the key on bad values.

Every wrong value type ends in a :class:`SamsegInputError` of the form
``FILE: KEY.PATH: expected an integer, found '8' (a string)`` instead of a ``TypeError``
traceback deeper down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from samseg.errors import SamsegInputError

_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "an object",
    type(None): "null",
}

_MISSING = object()


def _describe(value: Any) -> str:
    kind = _TYPE_NAMES.get(type(value), type(value).__name__)
    shown = repr(value)
    return f"{shown[:60]}... ({kind})" if len(shown) > 60 else f"{shown} ({kind})"


class JsonObject:
    """One JSON object read from ``source``; ``where`` is its key path (``configurations.2d_512``).

    Each accessor returns the value of one key converted to the Python type the dataclasses
    hold (lists become tuples), or raises naming ``source``, the key path, the expected type
    and the value found.
    """

    def __init__(self, data: Any, source: Path, where: str = ""):
        self.source = source
        self.where = where
        if not isinstance(data, dict):
            raise self._error(where or "top level", "an object", data)
        self.data: dict[str, Any] = data

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _error(self, where: str, expected: str, value: Any) -> SamsegInputError:
        return SamsegInputError(
            f"{self.source}: {where}: expected {expected}, found {_describe(value)}"
        )

    def _get(self, key: str, default: Any) -> Any:
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise SamsegInputError(
                f"{self.source}: {self.where or 'top level'}: expected the key {key!r}, found none"
            )
        return default

    def check_keys(self, allowed: Iterable[str]) -> None:
        """Refuse keys outside ``allowed`` (a misspelt key would otherwise be ignored)."""
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            raise SamsegInputError(
                f"{self.source}: {self.where or 'top level'}: expected only the keys "
                f"{sorted(allowed)}, found also {unknown}"
            )

    def string(self, key: str, default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if value is not default and not isinstance(value, str):
            raise self._error(self._path(key), "a string", value)
        return value

    def integer(self, key: str, default: Any = _MISSING) -> int:
        value = self._get(key, default)
        if value is not default and not _is_integer(value):
            raise self._error(self._path(key), "an integer", value)
        return value

    def number(self, key: str, default: Any = _MISSING) -> float:
        value = self._get(key, default)
        if value is default:
            return value
        if not _is_number(value):
            raise self._error(self._path(key), "a number", value)
        return float(value)

    def optional_string(self, key: str) -> str | None:
        return None if self._get(key, None) is None else self.string(key)

    def optional_integer(self, key: str) -> int | None:
        return None if self._get(key, None) is None else self.integer(key)

    def integers(self, key: str, length: int | None = None) -> tuple[int, ...]:
        return tuple(self._list(key, length, _is_integer, "integers"))

    def numbers(self, key: str, length: int | None = None) -> tuple[float, ...]:
        return tuple(float(v) for v in self._list(key, length, _is_number, "numbers"))

    def strings(self, key: str) -> tuple[str, ...]:
        return tuple(self._list(key, None, lambda v: isinstance(v, str), "strings"))

    def optional_integers(self, key: str) -> tuple[int, ...] | None:
        return None if self._get(key, None) is None else self.integers(key)

    def object(self, key: str, default: Any = _MISSING) -> JsonObject:
        return JsonObject(self._get(key, default), self.source, self._path(key))

    def objects(self, key: str) -> list[JsonObject]:
        """A list of objects, each named ``key[i]``."""
        values = self._list(key, None, lambda v: True, "objects")
        return [JsonObject(v, self.source, f"{self._path(key)}[{i}]") for i, v in enumerate(values)]

    def objects_by_name(self, key: str) -> dict[str, JsonObject]:
        """An object whose values are objects, each named ``key.name``."""
        inner = self.object(key)
        return {name: inner.object(name) for name in inner.data}

    def _list(self, key: str, length: int | None, check: Callable[[Any], bool], items: str) -> list:
        value = self._get(key, _MISSING)
        count = "" if length is None else f"{length} "
        if not isinstance(value, list) or (length is not None and len(value) != length):
            raise self._error(self._path(key), f"a list of {count}{items}", value)
        for index, item in enumerate(value):
            if not check(item):
                raise self._error(f"{self._path(key)}[{index}]", _SINGULAR[items], item)
        return value


_SINGULAR = {
    "integers": "an integer",
    "numbers": "a number",
    "strings": "a string",
    "objects": "an object",
}


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
