"""clicks.png: Dice against the number of corrective clicks, one panel per class."""

from __future__ import annotations

import math
import os

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from samseg.evaluation.prompts.summary import PromptSummary
from samseg.io.atomic import atomic_output

PANEL_COLUMNS = 4


def plot_click_curves(summary: PromptSummary, path: str | os.PathLike) -> None:
    """Draw each class's mean Dice after 1 .. N clicks, with its box and 1-point Dice as
    horizontal reference lines, and a last panel for the foreground mean; PNG, written
    atomically (matplotlib's Agg canvas, no display needed)."""
    panels = [
        (name, summary.mean[key])
        for key, name in zip(summary.labels.keys, summary.labels.names, strict=True)
    ]
    panels.append(("foreground mean", summary.foreground_mean))
    columns = min(PANEL_COLUMNS, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(3.6 * columns, 3.0 * rows))
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    clicks = list(range(1, summary.clicks + 1))
    for axis, (name, measures) in zip(axes, panels, strict=False):
        axis.plot(clicks, measures["click Dice"], marker="o", markersize=3, label="clicks")
        axis.axhline(measures["box Dice"], color="tab:green", linestyle="--", label="box")
        axis.axhline(measures["point Dice"], color="tab:red", linestyle=":", label="1 point")
        axis.set_title(name)
        axis.set_xlabel("corrective clicks")
        axis.set_ylabel("Dice")
        axis.set_ylim(0, 1.02)
        axis.set_xlim(0.5, summary.clicks + 0.5)
        axis.grid(alpha=0.3)
    for axis in axes[len(panels) :]:
        axis.set_visible(False)
    axes[0].legend(loc="best", fontsize="small")
    figure.tight_layout()
    with atomic_output(path) as temporary:
        figure.savefig(temporary, format="png")
