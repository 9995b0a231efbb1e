"""PG-SAM (Zhong et al., arXiv 2503.18227): prompt-free multi-organ SAM guided by per-class
text priors, as samseg builds it (documentation/pgsam.md).

Class descriptions (``descriptions``) are embedded by a CLIP text model from a local folder
(``clip_text``), read from a precomputed file, or replaced by learned embeddings
(``text_prior``); the guide matrix (``guide``: ``classwise`` or the released formula), the
guide and multi-level fusions (``fusion``) and the iterative mask optimizer
(``mask_optimizer``) make :class:`PGSAMSegmenter` (``network``), network kind ``pgsam``
(``spec``). ``heatmaps`` writes the per-class guide heatmaps as PNG overlays.
"""

from samseg.models.pgsam.descriptions import ClassDescriptions
from samseg.models.pgsam.guide import GUIDE_MODES, ClasswiseGuide, GuideMode, ReleasedGuide
from samseg.models.pgsam.network import PGSAMOutput, PGSAMSegmenter
from samseg.models.pgsam.options import PGSAMOptions
from samseg.models.pgsam.spec import PGSAMNetworkSpec, build_pgsam_network
from samseg.models.pgsam.text_prior import (
    TEXT_SOURCES,
    TextPriorSettings,
    TextSource,
    load_text_embeddings,
    save_text_embeddings,
)

__all__ = [
    "GUIDE_MODES",
    "TEXT_SOURCES",
    "ClassDescriptions",
    "ClasswiseGuide",
    "GuideMode",
    "PGSAMNetworkSpec",
    "PGSAMOptions",
    "PGSAMOutput",
    "PGSAMSegmenter",
    "ReleasedGuide",
    "TextPriorSettings",
    "TextSource",
    "build_pgsam_network",
    "load_text_embeddings",
    "save_text_embeddings",
]
