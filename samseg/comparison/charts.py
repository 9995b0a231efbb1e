"""The report's PNG charts (matplotlib's Agg canvas, no display needed), written atomically.

- ``dice_per_class.png``: mean Dice per class and overall, one bar per method, with its 95 %
  bootstrap interval as error bar.
- ``dice_vs_training_time.png``: overall Dice (with interval) against training time (the
  epochs' recorded seconds; adaptors train 0 s), one labelled point per method.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from samseg.comparison.method_statistics import OVERALL, MethodStatistics
from samseg.comparison.results import MethodResults
from samseg.io import atomic_output

DICE_PER_CLASS = "dice_per_class.png"
DICE_VS_TIME = "dice_vs_training_time.png"


def write_charts(
    folder: Path,
    results: Sequence[MethodResults],
    statistics: Mapping[str, MethodStatistics],
    rows: Sequence[str],
) -> list[Path]:
    """Write both charts into ``folder``; return their paths.

    Args:
        rows: the class names, then ``overall``, in the order the bars are drawn.
    """
    return [
        _save(_per_class(results, statistics, rows), folder / DICE_PER_CLASS),
        _save(_against_time(results, statistics), folder / DICE_VS_TIME),
    ]


def _per_class(
    results: Sequence[MethodResults],
    statistics: Mapping[str, MethodStatistics],
    rows: Sequence[str],
) -> Figure:
    width_inches = 3.0 + max(6.0, 0.65 * len(rows) * len(results))
    figure = Figure(figsize=(width_inches, 4.5), dpi=100)
    axes = figure.add_subplot(1, 1, 1)
    width = 0.8 / len(results)
    positions = np.arange(len(rows))
    for index, result in enumerate(results):
        intervals = [statistics[result.name].intervals[row]["Dice"] for row in rows]
        means = np.array([i.mean for i in intervals])
        errors = np.array(
            [[i.mean - i.low for i in intervals], [i.high - i.mean for i in intervals]]
        )
        axes.bar(
            positions + (index - (len(results) - 1) / 2) * width,
            np.nan_to_num(means),
            width,
            yerr=np.nan_to_num(errors),
            capsize=3,
            label=result.name,
        )
    axes.set_xticks(positions, list(rows))
    axes.set_ylabel("Dice (mean, 95 % bootstrap CI)")
    axes.set_ylim(0, 1.05)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    axes.set_title("Dice per class")
    figure.tight_layout()
    return figure


def _against_time(
    results: Sequence[MethodResults], statistics: Mapping[str, MethodStatistics]
) -> Figure:
    figure = Figure(figsize=(6.5, 4.5), dpi=100)
    axes = figure.add_subplot(1, 1, 1)
    for result in results:
        interval = statistics[result.name].intervals[OVERALL]["Dice"]
        error = [[interval.mean - interval.low], [interval.high - interval.mean]]
        axes.errorbar([result.training_seconds], [interval.mean], yerr=error, fmt="o", capsize=3)
        axes.annotate(
            result.name,
            (result.training_seconds, interval.mean),
            textcoords="offset points",
            xytext=(5, 5),
            fontsize=8,
        )
    axes.set_xlabel("training time (s, the epochs' recorded time)")
    axes.set_ylabel("overall Dice (mean, 95 % bootstrap CI)")
    axes.set_title("Dice against training time")
    figure.tight_layout()
    return figure


def _save(figure: Figure, path: Path) -> Path:
    with atomic_output(path) as temporary:
        FigureCanvasAgg(figure).print_png(temporary)
    return path
