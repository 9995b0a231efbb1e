"""Class-description files: per class a name and a fine-grained anatomical description.

PG-SAM guides its decoder with one text per class. A description file is JSON::

    {"dataset": "free text (optional)",
     "classes": [{"name": "background", "description": "..."},
                 {"name": "spleen", "description": "..."}, ...]}

with one entry per class of the dataset, background included, in class-index order (the
order of dataset.json's ``labels``); names must match those labels. samseg ships files for the
Synapse 8 organs (``builtin:synapse``, also Dataset901_AbdomenCTExample's labels) and for the
demo dataset (``builtin:demo``), written for samseg; a user writes their own (for instance
with a medical LLM, as the paper does) and passes its path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from samseg.errors import SamsegInputError

BUILTIN_PREFIX = "builtin:"
BUILTIN_FOLDER = Path(__file__).with_name("class_descriptions")
BUILTIN_NAMES = ("synapse", "demo")


@dataclass(frozen=True)
class ClassDescriptions:
    """The texts of C classes, in class-index order (background first).

    Attributes:
        names: the C class names.
        descriptions: the C descriptions, ``descriptions[k]`` of class ``names[k]``.
        source: the file (or ``builtin:NAME``) they were read from, for messages.
    """

    names: tuple[str, ...]
    descriptions: tuple[str, ...]
    source: str = "<memory>"

    def __post_init__(self) -> None:
        if len(self.names) != len(self.descriptions) or not self.names:
            raise SamsegInputError(
                f"{self.source}: expected one description per class, found "
                f"{len(self.names)} names and {len(self.descriptions)} descriptions"
            )

    @property
    def num_classes(self) -> int:
        """C, background included."""
        return len(self.names)

    @classmethod
    def load(cls, location: str | os.PathLike) -> ClassDescriptions:
        """Read a description file, or ``builtin:synapse`` / ``builtin:demo``.

        Raises:
            SamsegInputError: an unknown builtin, a missing or malformed file (the message
                names it, what was expected and what was found).
        """
        text = str(location)
        if text.startswith(BUILTIN_PREFIX):
            name = text.removeprefix(BUILTIN_PREFIX)
            if name not in BUILTIN_NAMES:
                raise SamsegInputError(
                    f"class descriptions {text!r}: expected one of "
                    f"{', '.join(BUILTIN_PREFIX + n for n in BUILTIN_NAMES)} or a file path"
                )
            path, source = BUILTIN_FOLDER / f"{name}.json", text
        else:
            path, source = Path(location), str(location)
        if not path.is_file():
            raise SamsegInputError(
                f"{source}: expected a class-description JSON file, found no such file"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SamsegInputError(f"{source}: expected JSON, found: {error}") from None
        entries = data.get("classes") if isinstance(data, dict) else None
        valid = isinstance(entries, list) and all(
            isinstance(e, dict)
            and isinstance(e.get("name"), str)
            and isinstance(e.get("description"), str)
            and e["description"].strip()
            for e in entries
        )
        if not valid or not entries:
            raise SamsegInputError(
                f"{source}: expected {{'classes': [{{'name': str, 'description': non-empty "
                f"str}}, ...]}}, found {str(data)[:200]!r}"
            )
        return cls(
            tuple(e["name"] for e in entries), tuple(e["description"] for e in entries), source
        )

    def check_matches(self, class_names: Sequence[str], where: str) -> None:
        """Check that the file describes exactly ``class_names``, in that order.

        Raises:
            SamsegInputError: other names, count or order (naming ``where``, the dataset).
        """
        if tuple(class_names) != self.names:
            raise SamsegInputError(
                f"{self.source}: expected descriptions of the classes of {where} in label "
                f"order {list(class_names)}, found {list(self.names)}"
            )

    def permuted(self, order: Sequence[int]) -> ClassDescriptions:
        """Class k described by text ``order[k]`` (names kept): an ablation of the prior."""
        if sorted(order) != list(range(self.num_classes)):
            raise ValueError(f"expected a permutation of 0..{self.num_classes - 1}, found {order}")
        texts = tuple(self.descriptions[i] for i in order)
        return ClassDescriptions(self.names, texts, f"{self.source} permuted {list(order)}")
