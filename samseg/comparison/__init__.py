"""``samseg_compare``: train, adapt, predict and evaluate several methods the same way, then
write one report with confidence intervals, paired tests, costs, charts and overlays.

:func:`compare` is the whole comparison; ``plan`` checks a request before anything trains,
``runner`` runs the stages resumably, ``report`` writes ``report.md`` and ``report.json``.
"""

from samseg.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "api": ["compare"],
        "budget": ["TrainingBudget"],
        "request": ["ADAPTOR_MODES", "ComparisonRequest"],
    },
)
