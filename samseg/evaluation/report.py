"""Plain-text report of an evaluation: the per-class table and what was not evaluated."""

from __future__ import annotations

import math

from samseg.evaluation.summary import EvaluationSummary


def format_table(summary: EvaluationSummary) -> str:
    """Per-class means over cases (Dice, IoU, HD95, NSD), then the foreground mean.

    Classes are listed by name; NaN (not defined for any case) prints as ``n/a``.
    """
    tolerance = f"{summary.nsd_tolerance_mm:g}"
    header = ("class", "Dice", "IoU", f"HD95 ({summary.hd95_unit})", f"NSD@{tolerance}mm")
    rows = [
        (name, *_values(summary.mean[key]))
        for key, name in zip(summary.labels.keys, summary.labels.names, strict=True)
    ]
    rows.append(("foreground mean", *_values(summary.foreground_mean)))
    width = max(len(header[0]), *(len(r[0]) for r in rows))
    widths = (width, *(max(8, len(h)) for h in header[1:]))
    lines = [_line(header, widths), _line(tuple("-" * w for w in widths), widths)]
    lines += [_line(row, widths) for row in rows]
    protocol = "Synapse (TransUNet) protocol" if summary.synapse_protocol else "default protocol"
    lines.insert(0, f"{len(summary.cases)} cases, means over cases, {protocol}")
    one_sided = sum(
        1
        for case in summary.cases
        for metrics in case.metrics.values()
        if math.isnan(metrics["HD95"]) and (metrics["n_ref"] or metrics["n_pred"])
    )
    if one_sided:
        lines.append(
            f"HD95 is undefined, and left out of its mean, for {one_sided} case/class pairs "
            "where only one of reference and prediction is empty (their Dice and NSD are 0)"
        )
    return "\n".join(lines)


def format_problems(summary: EvaluationSummary) -> str:
    """One line per case that could not be evaluated; empty when there is none."""
    lines = [
        f"missing prediction: case {m.identifier} ({m.expected_prediction_file} not found; "
        f"reference {m.reference_file})"
        for m in summary.missing_cases
    ]
    lines += [
        f"prediction without a reference, not evaluated: {path}"
        for path in summary.predictions_without_reference
    ]
    return "\n".join(lines)


def _values(metrics: dict) -> tuple[str, ...]:
    return tuple(_number(metrics[m], digits) for m, digits in _COLUMNS)


_COLUMNS = (("Dice", 4), ("IoU", 4), ("HD95", 2), ("NSD", 4))


def _number(value: float, digits: int) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def _line(cells: tuple[str, ...], widths: tuple[int, ...]) -> str:
    first = cells[0].ljust(widths[0])
    return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])
