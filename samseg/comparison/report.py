"""Write the comparison's report: ``report.json`` (every number, the commands, the versions),
``report.md`` (the tables, charts and overlays), atomically.

``report.md`` has an overall table (per-case mean over the foreground classes; costs beside
the accuracy), one table per class, and the paired differences against the baseline with
the Wilcoxon p-values, then the charts and the overlays.
"""

from __future__ import annotations

import math
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from samseg.comparison.charts import write_charts
from samseg.comparison.disagreement import most_disagreed_cases, write_disagreement_overlay
from samseg.comparison.method_statistics import (
    OVERALL,
    REPORT_METRICS,
    MethodStatistics,
    case_values,
    compute_statistics,
    foreground_classes,
)
from samseg.comparison.plan import ComparisonPlan
from samseg.comparison.results import MethodResults, collect_results
from samseg.comparison.runner import prediction_folder
from samseg.comparison.state import ComparisonState
from samseg.io import atomic_output, write_json

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
PACKAGES = ("samseg", "torch", "numpy", "scipy", "SimpleITK", "matplotlib")


def write_report(plan: ComparisonPlan) -> Path:
    """Gather the finished stages of ``plan`` and write the report; return ``report.md``."""
    request = plan.request
    folder = request.output_folder
    state = ComparisonState.open(folder, request.settings_json())
    results = collect_results(plan, state)
    labels = plan.evaluation.labels
    statistics = compute_statistics(
        results, labels, plan.baseline, request.bootstrap_samples, request.seed
    )
    rows = [name for _, name in foreground_classes(labels)] + [OVERALL]
    charts = write_charts(folder, results, statistics, rows)
    overlays = _overlays(plan, results, folder)
    data = _report_json(plan, results, statistics, charts, overlays)
    write_json(data, folder / REPORT_JSON)
    with atomic_output(folder / REPORT_MD) as temporary:
        temporary.write_text(_markdown(plan, results, statistics, rows, charts, overlays))
    return folder / REPORT_MD


def _overlays(plan: ComparisonPlan, results: Sequence[MethodResults], folder: Path) -> list[Path]:
    classes = foreground_classes(plan.evaluation.labels)
    cases = sorted(results[0].cases)
    overall = {
        r.name: dict(zip(cases, case_values(r, cases, classes, "Dice")[OVERALL], strict=True))
        for r in results
    }
    written = []
    ending = plan.evaluation.file_ending
    for case in most_disagreed_cases(overall, plan.request.overlay_cases):
        part = next(p for p in plan.parts if case in p.images)
        predictions = {
            r.name: prediction_folder(folder, r.name, part.name) / f"{case}{ending}"
            for r in results
        }
        written.append(
            write_disagreement_overlay(
                folder / "overlays" / f"{case}.png",
                case,
                part.images[case][0],
                part.label_folder / f"{case}{ending}",
                predictions,
                {name: values[case] for name, values in overall.items()},
                plan.evaluation.labels,
                plan.evaluation.reader_writer,
            )
        )
    return written


def _report_json(
    plan: ComparisonPlan,
    results: Sequence[MethodResults],
    statistics: Mapping[str, MethodStatistics],
    charts: Sequence[Path],
    overlays: Sequence[Path],
) -> dict:
    request = plan.request
    methods = {}
    for result in results:
        method_statistics = statistics[result.name]
        methods[result.name] = {
            "kind": "adaptor" if result.trainer is None else "trainer",
            "trainer": result.trainer,
            "metrics": _nested(method_statistics.intervals),
            "paired_vs_baseline": _nested(method_statistics.paired),
            "trainable_parameters": result.trainable_parameters,
            "training_seconds": result.training_seconds,
            "training_command_seconds": result.training_command_seconds,
            "prediction_seconds_per_slice": result.prediction_seconds_per_slice,
            "peak_rss_mib": result.peak_rss_mib,
            "peak_cuda_mib": result.peak_cuda_mib,
            "commands": result.commands,
            "cases": result.cases,
        }
    return {
        "written": datetime.now(UTC).isoformat(),
        "settings": request.settings_json(),
        "dataset": plan.plans.dataset_name,
        "protocol": plan.protocol,
        "cases": sorted(results[0].cases),
        "baseline": plan.baseline,
        "bootstrap": {"samples": request.bootstrap_samples, "seed": request.seed, "level": 0.95},
        "methods": methods,
        "charts": [p.name for p in charts],
        "overlays": [str(p.relative_to(request.output_folder)) for p in overlays],
        "command_line": sys.argv,
        "versions": _versions(),
    }


def _nested(table: Mapping[str, Mapping]) -> dict:
    return {row: {m: v.to_json() for m, v in metrics.items()} for row, metrics in table.items()}


def _versions() -> dict:
    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    versions["samseg_git_commit"] = _git_commit()
    return versions


def _git_commit() -> str | None:
    """The commit of the samseg checkout (with ``+changes`` when dirty), if it is one."""
    where = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    if commit.returncode != 0:
        return None
    return commit.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def _markdown(
    plan: ComparisonPlan,
    results: Sequence[MethodResults],
    statistics: Mapping[str, MethodStatistics],
    rows: Sequence[str],
    charts: Sequence[Path],
    overlays: Sequence[Path],
) -> str:
    request = plan.request
    cases = len(results[0].cases)
    lines = [
        f"# Comparison on {plan.plans.dataset_name}, {request.configuration}",
        "",
        f"{cases} {plan.protocol} cases; folds {', '.join(map(str, request.folds))}; "
        f"budget {request.budget.suffix or 'the trainers own'}; baseline {plan.baseline}. "
        f"Means over cases with 95 % bootstrap intervals ({request.bootstrap_samples} "
        f"resamples of the cases); HD95 in mm; NSD at the evaluation's tolerance.",
        "",
        "## Overall (per-case mean over the foreground classes)",
        "",
        "| method | Dice | HD95 (mm) | NSD | ΔDice vs baseline (p) | trainable | train s | "
        "predict s/slice | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        method = statistics[result.name]
        cells = [_interval(method.intervals[OVERALL][m]) for m in REPORT_METRICS]
        cells.append(_paired(method.paired.get(OVERALL, {}).get("Dice")))
        cells += [
            _count(result.trainable_parameters),
            f"{result.training_seconds:.1f}",
            f"{result.prediction_seconds_per_slice:.3f}",
            _count(result.peak_rss_mib),
        ]
        lines.append(f"| {result.name} | " + " | ".join(cells) + " |")
    for row in rows[:-1]:
        lines += [
            "",
            f"## {row}",
            "",
            "| method | Dice | HD95 (mm) | NSD | ΔDice vs baseline (p) |",
        ]
        lines.append("|---|---|---|---|---|")
        for result in results:
            method = statistics[result.name]
            cells = [_interval(method.intervals[row][m]) for m in REPORT_METRICS]
            cells.append(_paired(method.paired.get(row, {}).get("Dice")))
            lines.append(f"| {result.name} | " + " | ".join(cells) + " |")
    lines += ["", f"## Paired differences against {plan.baseline} (method - baseline)", ""]
    lines += ["| method | row | ΔDice (p) | ΔHD95 mm (p) | ΔNSD (p) |", "|---|---|---|---|---|"]
    for result in results:
        for row, metrics in statistics[result.name].paired.items():
            cells = [_paired(metrics[m]) for m in REPORT_METRICS]
            lines.append(f"| {result.name} | {row} | " + " | ".join(cells) + " |")
    lines += ["", "## Charts", ""] + [f"![{p.stem}]({p.name})" for p in charts]
    lines += ["", "## Where the methods disagree most", ""]
    lines += [f"![{p.stem}]({p.relative_to(request.output_folder)})" for p in overlays]
    lines += ["", "Commands, versions and every number: `report.json`.", ""]
    return "\n".join(lines)


def _interval(interval) -> str:
    if interval.cases == 0:
        return "n/a"
    digits = 2 if abs(interval.mean) >= 10 else 3
    return f"{interval.mean:.{digits}f} [{interval.low:.{digits}f}, {interval.high:.{digits}f}]"


def _paired(paired) -> str:
    if paired is None:
        return "—"
    if paired.difference.cases == 0:
        return "n/a"
    return f"{paired.difference.mean:+.3f} (p={paired.wilcoxon_p:.3g})"


def _count(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.0f}"
