"""Fingerprint extraction, experiment planning and the plans model."""

from samseg.planning.fingerprint import extract_fingerprint
from samseg.planning.planner import DemoTinyPlanner, SliceSAMPlanner, SynapseCTWindowPlanner
from samseg.planning.plans import ChannelNormalization, LabelHandling, Plans, SliceConfiguration
from samseg.planning.registry import BUILT_IN_PLANNERS, planner_class

__all__ = [
    "BUILT_IN_PLANNERS",
    "ChannelNormalization",
    "DemoTinyPlanner",
    "LabelHandling",
    "Plans",
    "SliceConfiguration",
    "SliceSAMPlanner",
    "SynapseCTWindowPlanner",
    "extract_fingerprint",
    "planner_class",
]
