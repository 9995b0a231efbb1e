"""PNG pictures of P²SAM's prompts and masks on the network input (``--save_overlays``).

One picture per prompted (slice, class): the S x S network input as the network saw it (a
photo in colour; a CT slice grey, or its neighbours as colours when the plans add context
slices), the chosen candidate's mask as a
translucent fill with its outline, the positive points (green +), the negative points (red x)
and the candidate's box (yellow, box prompt type), with the part counts and the OT distance in
the title. Matplotlib's Agg canvas renders without a display; files are written atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from samseg.io import atomic_output

MASK_COLOUR = (0.0, 0.6, 1.0)
POSITIVE_COLOUR, NEGATIVE_COLOUR, BOX_COLOUR = "lime", "red", "yellow"


@dataclass(frozen=True)
class PromptedSlice:
    """What one overlay shows.

    Attributes:
        case, slice_index, class_value: where it comes from (slice of the preprocessed case).
        image: (S, S, 3) network input, 0-255.
        mask: (S, S) bool chosen mask, input pixels.
        candidate: the chosen candidate's record (``Candidate.to_json``).
    """

    case: str
    slice_index: int
    class_value: int
    image: np.ndarray
    mask: np.ndarray
    candidate: dict

    @property
    def file_name(self) -> str:
        """``CASE_slice0012_class3.png``."""
        return f"{self.case}_slice{self.slice_index:04d}_class{self.class_value}.png"


def write_overlay(prompted: PromptedSlice, folder: Path) -> Path:
    """Draw ``prompted`` into ``folder / prompted.file_name`` (atomically); return the path."""
    image = np.clip(np.asarray(prompted.image, dtype=np.float32), 0, 255) / 255
    mask = np.asarray(prompted.mask, dtype=bool)
    tinted = image.copy()
    tinted[mask] = 0.6 * image[mask] + 0.4 * np.asarray(MASK_COLOUR)
    figure = Figure(figsize=(4, 4.3), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 0.92))
    axes.imshow(tinted, interpolation="nearest")
    if mask.any():
        axes.contour(mask.astype(np.float32), levels=[0.5], colors=[MASK_COLOUR], linewidths=1)
    candidate = prompted.candidate
    points = np.asarray(candidate.get("points") or [], dtype=np.float32).reshape(-1, 2)
    labels = np.asarray(candidate.get("labels") or [], dtype=np.int64)
    for label, colour, marker in ((1, POSITIVE_COLOUR, "+"), (0, NEGATIVE_COLOUR, "x")):
        chosen = points[labels == label]
        axes.scatter(chosen[:, 0], chosen[:, 1], c=colour, marker=marker, s=60, linewidths=1.5)
    if candidate.get("box") is not None:
        x0, y0, x1, y1 = candidate["box"]
        axes.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec=BOX_COLOUR, lw=1))
    axes.set_axis_off()
    distance = candidate.get("wasserstein")
    figure.suptitle(
        f"{prompted.case} slice {prompted.slice_index} class {prompted.class_value}: "
        f"{candidate['positive_parts']}+ / {candidate['negative_parts']}- parts"
        + ("" if distance is None else f", W {distance:.3g}"),
        fontsize=8,
        y=0.98,
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / prompted.file_name
    with atomic_output(path) as temporary:
        figure.savefig(temporary, format="png")
    return path
