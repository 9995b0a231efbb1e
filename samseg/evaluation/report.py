"""Plain-text report of an evaluation: the per-class table and what was not evaluated."""

from __future__ import annotations

import math

from samseg.evaluation.summary import EvaluationSummary

DEFINED_MEAN_ROW = "mean of defined classes"


def format_table(summary: EvaluationSummary) -> str:
    """Per-class means over cases (Dice, IoU, HD95, NSD), then the foreground mean.

    Classes are listed by name; NaN (not defined for any case) prints as ``n/a``. When a class
    mean is NaN (which makes nnU-Net's foreground mean NaN), a row with the mean over the
    defined classes follows, and a line names the classes it leaves out. Cases without a
    prediction (evaluated with ``allow_missing``) are named under the first line.
    """
    tolerance = f"{summary.nsd_tolerance_mm:g}"
    header = ("class", "Dice", "IoU", f"HD95 ({summary.hd95_unit})", f"NSD@{tolerance}mm")
    rows = [
        (name, *_values(summary.mean[key]))
        for key, name in zip(summary.labels.keys, summary.labels.names, strict=True)
    ]
    rows.append(("foreground mean", *_values(summary.foreground_mean)))
    left_out = _left_out_of_defined_mean(summary)
    if left_out:
        rows.append((DEFINED_MEAN_ROW, *_values(summary.defined_foreground_mean)))
    width = max(len(header[0]), *(len(r[0]) for r in rows))
    widths = (width, *(max(8, len(h)) for h in header[1:]))
    lines = [_line(header, widths), _line(tuple("-" * w for w in widths), widths)]
    lines += [_line(row, widths) for row in rows]
    protocol = "Synapse (TransUNet) protocol" if summary.synapse_protocol else "default protocol"
    lines.insert(0, f"{len(summary.cases)} cases, means over cases, {protocol}")
    if summary.missing_cases:
        names = ", ".join(m.identifier for m in summary.missing_cases)
        count = len(summary.missing_cases)
        lines.insert(1, f"{_count(count, 'case')} without a prediction, in no mean: {names}")
    if left_out:
        described = ", ".join(f"{name} ({', '.join(metrics)})" for name, metrics in left_out)
        lines.append(
            f"{DEFINED_MEAN_ROW} leaves out classes whose mean is undefined (no case defines "
            f"it): {described}"
        )
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


def _left_out_of_defined_mean(summary: EvaluationSummary) -> list[tuple[str, list[str]]]:
    """(class name, printed metrics) for every class left out of a printed defined mean."""
    names = dict(zip(summary.labels.keys, summary.labels.names, strict=True))
    left_out = []
    for key in summary.labels.keys:
        metrics = [
            m for m, _ in _COLUMNS if key in summary.left_out_of_defined_mean.get(m, ())
        ]
        if metrics:
            left_out.append((names[key], metrics))
    return left_out


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


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _number(value: float, digits: int) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def _line(cells: tuple[str, ...], widths: tuple[int, ...]) -> str:
    first = cells[0].ljust(widths[0])
    return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])
