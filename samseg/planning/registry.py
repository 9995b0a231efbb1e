"""Find a planner class by name: a built-in one, or ``package.module.ClassName``."""

from __future__ import annotations

import importlib

from samseg.errors import SamsegInputError
from samseg.planning.planner import DemoTinyPlanner, SliceSAMPlanner, SynapseCTWindowPlanner

BUILT_IN_PLANNERS: dict[str, type[SliceSAMPlanner]] = {
    cls.__name__: cls for cls in (SliceSAMPlanner, SynapseCTWindowPlanner, DemoTinyPlanner)
}


def planner_class(name: str) -> type[SliceSAMPlanner]:
    """The planner called ``name``.

    ``name`` is a built-in planner's class name, or the dotted path of a user's subclass of
    :class:`SliceSAMPlanner` (``my_lab.planners.ThinSlicePlanner``); only that module is
    imported.
    """
    if name in BUILT_IN_PLANNERS:
        return BUILT_IN_PLANNERS[name]
    module_name, _, class_name = name.rpartition(".")
    found = None
    if module_name:
        try:
            found = getattr(importlib.import_module(module_name), class_name, None)
        except ImportError:
            found = None
    if isinstance(found, type) and issubclass(found, SliceSAMPlanner):
        return found
    raise SamsegInputError(
        f"-pl {name}: expected a planner among {sorted(BUILT_IN_PLANNERS)} or the dotted path "
        "of a SliceSAMPlanner subclass (package.module.ClassName), found neither"
    )
