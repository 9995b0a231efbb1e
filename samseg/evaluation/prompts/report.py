"""Plain-text table of a click evaluation: per class box, 1-point and click Dice, NoC, NoF."""

from __future__ import annotations

import math
from typing import Any

from samseg.evaluation.prompts.measures import NOC_THRESHOLDS, threshold_name
from samseg.evaluation.prompts.summary import PromptSummary

SHOWN_CLICKS = (1, 3, 5)
"""Click counts with a Dice column (those up to N), besides N itself."""


def shown_clicks(clicks: int) -> list[int]:
    """The click counts the table shows: 1, 3, 5 (up to N) and N."""
    return sorted({k for k in SHOWN_CLICKS if k <= clicks} | {clicks})


def format_prompt_table(summary: PromptSummary) -> str:
    """One row per class, then the foreground mean; NaN prints as ``n/a``.

    Columns: the cases holding the class, box Dice, 1-point Dice, Dice after 1, 3, 5 and N
    clicks, NoC@85, NoC@90 (mean clicks, capped at N) and NoF@85, NoF@90 (cases never
    reaching it).
    """
    clicks = shown_clicks(summary.clicks)
    names = [threshold_name(t) for t in NOC_THRESHOLDS]
    header = (
        "class",
        "cases",
        "box",
        "point",
        *(f"{k} click{'s' if k > 1 else ''}" for k in clicks),
        *(f"NoC@{n}" for n in names),
        *(f"NoF@{n}" for n in names),
    )
    rows = [
        (name, str(summary.mean[key]["cases"]), *_cells(summary.mean[key], clicks, names))
        for key, name in zip(summary.labels.keys, summary.labels.names, strict=True)
    ]
    rows.append(("foreground mean", "", *_cells(summary.foreground_mean, clicks, names)))
    widths = [max(len(header[0]), *(len(row[0]) for row in rows))]
    widths += [max(6, len(h)) for h in header[1:]]
    lines = [
        f"{len(summary.cases)} cases, Dice in the preprocessed grid, means over the cases "
        f"holding each class; {summary.clicks} corrective clicks per slice view, NoC capped "
        f"at {summary.clicks}",
        _line(header, widths),
        _line(tuple("-" * w for w in widths), widths),
    ]
    lines += [_line(row, widths) for row in rows]
    return "\n".join(lines)


def _cells(measures: dict[str, Any], clicks: list[int], names: list[str]) -> tuple[str, ...]:
    dice = [measures["box Dice"], measures["point Dice"]]
    dice += [measures["click Dice"][k - 1] for k in clicks]
    cells = [_number(value, 4) for value in dice]
    cells += [_number(measures[f"NoC@{n}"], 2) for n in names]
    cells += [str(measures[f"NoF@{n}"]) for n in names]
    return tuple(cells)


def _number(value: float, digits: int) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    first = cells[0].ljust(widths[0])
    return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])
