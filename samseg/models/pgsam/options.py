"""PG-SAM's network options: what a checkpoint records to rebuild the PG-SAM head."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from samseg.errors import SamsegInputError
from samseg.models.pgsam.guide import GUIDE_MODES, GuideMode


@dataclass(frozen=True, kw_only=True)
class PGSAMOptions:
    """The PG-SAM head of a network (the SAM backbone is described by ``NetworkSpec``).

    Attributes:
        class_names: the C class names, background first (the text prior's order).
        text_dim: D, the width of the class text embeddings.
        learned: learned class embeddings (the no-text ablation) instead of a text buffer.
        guide: ``classwise`` (default) or ``released`` (the official, inert formula).
        level_blocks: encoder blocks fused by MLFF (``EncoderFamily.level_blocks`` by default).
        iterations: refinement iterations of the mask optimizer (the release: 1).
        attention_grid: largest grid side the guide fusion's attention runs on.
        temperature: initial temperature of the classwise similarity maps.
    """

    class_names: tuple[str, ...]
    text_dim: int
    learned: bool = False
    guide: GuideMode = "classwise"
    level_blocks: tuple[int, ...] = ()
    iterations: int = 1
    attention_grid: int = 16
    temperature: float = 0.07

    def __post_init__(self) -> None:
        problems = []
        if len(self.class_names) < 2:
            problems.append(f"at least 2 classes (background included), found {self.class_names}")
        if self.text_dim < 1 or self.attention_grid < 1 or self.iterations < 0:
            problems.append(
                "text_dim >= 1, attention_grid >= 1 and iterations >= 0, found "
                f"{self.text_dim}, {self.attention_grid}, {self.iterations}"
            )
        if self.guide not in GUIDE_MODES:
            problems.append(f"guide one of {list(GUIDE_MODES)}, found {self.guide!r}")
        if problems:
            raise SamsegInputError(f"PG-SAM options: expected {'; '.join(problems)}")

    @property
    def num_classes(self) -> int:
        """C, background included."""
        return len(self.class_names)

    def to_json(self) -> dict[str, Any]:
        """The options as JSON-able values (tuples as lists)."""
        data = asdict(self)
        data["class_names"] = list(self.class_names)
        data["level_blocks"] = list(self.level_blocks)
        return data

    @classmethod
    def from_json(cls, data: object, where: str) -> PGSAMOptions:
        """Parse :meth:`to_json` output.

        Raises:
            SamsegInputError: not a dict of the known fields, or invalid values (``where``).
        """
        fields = set(cls.__dataclass_fields__)
        if not isinstance(data, dict) or not set(data) <= fields:
            raise SamsegInputError(
                f"{where}: expected PG-SAM options with fields among {sorted(fields)}, "
                f"found {data!r}"
            )
        try:
            return cls(
                **{
                    **data,
                    "class_names": tuple(data["class_names"]),
                    "level_blocks": tuple(int(b) for b in data.get("level_blocks", ())),
                }
            )
        except (KeyError, TypeError) as error:
            raise SamsegInputError(f"{where}: expected valid PG-SAM options ({error})") from None
