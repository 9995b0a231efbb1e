"""Fingerprint extraction and experiment planning (imported on first use); the plans model
they write is ``samseg.plans``."""

from samseg.lazy_exports import exported_names, lazy_exports

_EXPORTS = {
    "fingerprint": ("extract_fingerprint",),
    "planner": (
        "DemoLiteMedSAMPlanner",
        "DemoTinyPlanner",
        "LiteMedSAMPlanner",
        "ResizeToFillPlanner",
        "SliceSAMPlanner",
        "SynapseCTWindowPlanner",
    ),
    "registry": ("BUILT_IN_PLANNER_NAMES", "planner_class"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = exported_names(_EXPORTS)
