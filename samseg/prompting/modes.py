"""The prompt modes of prompted prediction and click evaluation (``--prompts``).

- ``box``: the tight box of the reference mask.
- ``point``: one positive point, the interior pixel farthest from the mask's border.
- ``points:N``: N positive points drawn uniformly inside the mask (seeded).
- ``clicks:N``: N corrective clicks, each at the centre of the largest remaining error region
  (positive in a missed region, negative in a false-positive one), the clicks accumulated and
  the previous logits given as the mask prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PromptKind = Literal["box", "point", "points", "clicks"]
PROMPT_KINDS: tuple[PromptKind, ...] = ("box", "point", "points", "clicks")
PROMPT_MODE_SYNTAX = "box|point|points:N|clicks:N"


@dataclass(frozen=True)
class PromptMode:
    """One prompt mode.

    Attributes:
        kind: ``box``, ``point``, ``points`` or ``clicks``.
        count: N of ``points:N`` and ``clicks:N``; 1 for ``box`` and ``point``.
    """

    kind: PromptKind
    count: int = 1

    def __post_init__(self) -> None:
        if self.kind not in PROMPT_KINDS:
            raise ValueError(f"prompt mode: expected {PROMPT_MODE_SYNTAX}, found {self.kind!r}")
        if self.count < 1:
            raise ValueError(f"prompt mode {self.kind}: expected N >= 1, found {self.count}")
        if self.kind in ("box", "point") and self.count != 1:
            raise ValueError(f"prompt mode {self.kind} takes no count, found {self.count}")

    @classmethod
    def parse(cls, text: str) -> PromptMode:
        """``box``, ``point``, ``points:N`` or ``clicks:N`` as a mode.

        Raises:
            ValueError: any other text, naming the syntax.
        """
        kind, separator, count = text.strip().partition(":")
        if kind in ("box", "point") and not separator:
            return cls(kind)
        if kind in ("points", "clicks") and separator and count.isdigit() and int(count) >= 1:
            return cls(kind, int(count))
        raise ValueError(f"--prompts: expected {PROMPT_MODE_SYNTAX} (N >= 1), found {text!r}")

    def __str__(self) -> str:
        return self.kind if self.kind in ("box", "point") else f"{self.kind}:{self.count}"

    @property
    def steps(self) -> int:
        """Decoder calls per (image, class): N for ``clicks:N``, else 1."""
        return self.count if self.kind == "clicks" else 1
