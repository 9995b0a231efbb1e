"""Import segment_anything's model code without its package ``__init__`` when needed.

``segment_anything/__init__.py`` imports ``SamPredictor`` and ``SamAutomaticMaskGenerator``,
whose transforms import torchvision. torchvision is not needed by the model classes, and it has
no wheel matching every torch build (a CPU-only torch among them). samseg only needs
``segment_anything.modeling`` (the network classes) and ``segment_anything.build_sam`` (the
reference builders, used by the tests), and neither imports torchvision.

When torchvision is installed the package is imported normally. When it is not, the package
module object is created from its import spec *without executing* its ``__init__`` and
registered in ``sys.modules``; the submodules then import as usual, because the package object
carries the package's ``__path__``. ``segment_anything.SamPredictor`` is then absent, which is
the part that needs torchvision anyway. Nothing but ``sys.modules`` is changed.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import NamedTuple

from samseg.errors import SamsegConfigError

PACKAGE = "segment_anything"


class SegmentAnythingModules(NamedTuple):
    """The two parts of segment_anything that samseg uses."""

    modeling: ModuleType
    """``segment_anything.modeling``: ImageEncoderViT, PromptEncoder, MaskDecoder, Sam, ..."""
    build_sam: ModuleType
    """``segment_anything.build_sam``: the reference builders ``build_sam_vit_{b,l,h}``."""


def import_segment_anything() -> SegmentAnythingModules:
    """Import ``segment_anything.modeling`` and ``segment_anything.build_sam``.

    Imports the package normally when torchvision is importable, otherwise without running
    the package ``__init__`` (see the module docstring). Repeated calls are cheap: the
    modules are cached in ``sys.modules`` like any import.

    Raises:
        SamsegConfigError: segment-anything is not installed.
    """
    if PACKAGE not in sys.modules:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or spec.submodule_search_locations is None:
            raise SamsegConfigError(
                "The segment-anything package is not installed (expected an importable "
                f"package {PACKAGE!r}); install it with `pip install segment-anything`."
            )
        if importlib.util.find_spec("torchvision") is not None:
            importlib.import_module(PACKAGE)
        else:
            sys.modules[PACKAGE] = importlib.util.module_from_spec(spec)
    return SegmentAnythingModules(
        modeling=importlib.import_module(f"{PACKAGE}.modeling"),
        build_sam=importlib.import_module(f"{PACKAGE}.build_sam"),
    )
