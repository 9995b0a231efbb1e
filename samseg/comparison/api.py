"""The whole comparison in one call."""

from __future__ import annotations

from pathlib import Path

from samseg.comparison.report import write_report
from samseg.comparison.request import ComparisonRequest
from samseg.comparison.runner import run_comparison
from samseg.comparison.stage import StageExecutor


def compare(
    request: ComparisonRequest, *, stages: StageExecutor | None = None, show_progress: bool = True
) -> Path:
    """Check ``request``, run its unfinished stages, write the report; return ``report.md``.

    Args:
        request: the comparison.
        stages: how commands run (default: each in a measured child process).
        show_progress: one progress bar over every stage.

    Raises:
        SamsegInputError, SamsegConfigError: bad input (before any training starts) or a
            failed stage (naming its log).
    """
    plan = run_comparison(request, stages=stages, show_progress=show_progress)
    return write_report(plan)
