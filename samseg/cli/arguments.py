"""The argument parser every samseg command uses: one flag spelling documented, two accepted.

Flags are spelt as nnU-Net spells them, with underscores (``--num_gpus``, ``-num_parts``);
``--help`` and documentation/cli.md show that spelling only. Each flag is also accepted with
hyphens (``--num-gpus``, ``--sam-checkpoint=PATH``), the spelling many tools use.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import Any

HYPHEN_NOTE = "Flags may also be written with hyphens instead of underscores (--num-gpus)."


class SamsegArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that reads ``--foo-bar`` as the declared ``--foo_bar``."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("epilog", HYPHEN_NOTE)
        super().__init__(*args, **kwargs)

    def parse_known_args(
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        tokens = sys.argv[1:] if args is None else list(args)
        return super().parse_known_args(underscored(tokens, self._option_string_actions), namespace)


def underscored(tokens: Sequence[str], known_flags: Iterable[str]) -> list[str]:
    """``tokens`` with each hyphen-spelt flag (``--num-gpus``, ``--num-gpus=2``) replaced by
    its declared underscore spelling; values, unknown flags and everything after ``--`` are
    left alone."""
    known = set(known_flags)
    result = []
    for index, token in enumerate(tokens):
        if token == "--":
            return result + list(tokens[index:])
        flag, separator, value = token.partition("=")
        if flag.startswith("-") and flag not in known:
            dashes = len(flag) - len(flag.lstrip("-"))
            candidate = flag[:dashes] + flag[dashes:].replace("-", "_")
            if candidate in known:
                token = candidate + separator + value
        result.append(token)
    return result


def fold_argument(value: str) -> int | str:
    """A ``-f`` / fold argument: a fold number (0-4 of splits_final.json) or ``all``."""
    if value == "all":
        return value
    if value.isdigit():
        return int(value)
    raise argparse.ArgumentTypeError(f"expected a fold number (0-4) or 'all', found {value!r}")
