"""Find a planner class by name: a built-in one, or ``package.module.ClassName``.

Listing the built-in names imports nothing heavy (``samseg_plan_and_preprocess --help`` shows
them); the planner module is imported when a planner is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from samseg.errors import SamsegInputError

if TYPE_CHECKING:
    from samseg.planning.planner import SliceSAMPlanner

#: Class names of the planners in ``samseg.planning.planner``.
BUILT_IN_PLANNER_NAMES = (
    "SliceSAMPlanner",
    "SynapseCTWindowPlanner",
    "DemoTinyPlanner",
    "ResizeToFillPlanner",
    "LiteMedSAMPlanner",
    "DemoLiteMedSAMPlanner",
)


def planner_class(name: str) -> type[SliceSAMPlanner]:
    """The planner called ``name``.

    ``name`` is a built-in planner's class name, or the dotted path of a user's subclass of
    :class:`SliceSAMPlanner` (``my_lab.planners.ThinSlicePlanner``); only that module is
    imported.
    """
    from samseg.planning import planner

    if name in BUILT_IN_PLANNER_NAMES:
        return getattr(planner, name)
    module_name, _, class_name = name.rpartition(".")
    found = None
    if module_name:
        try:
            found = getattr(importlib.import_module(module_name), class_name, None)
        except ImportError:
            found = None
    if isinstance(found, type) and issubclass(found, planner.SliceSAMPlanner):
        return found
    raise SamsegInputError(
        f"-pl {name}: expected a planner among {sorted(BUILT_IN_PLANNER_NAMES)} or the dotted "
        "path of a SliceSAMPlanner subclass (package.module.ClassName), found neither"
    )
