"""Test-time adaptors built on SAM's promptable interface: P²SAM and PerSAM.

One annotated reference (an image and its mask, or a prior scan of the same patient) becomes
part-aware point (or box) prompts for a new target, without training (see
``shared/methods/p2sam.md``): reference tokens and part prototypes (``prototypes``),
similarity maps and points (``similarity``), SAM's decoding chain (``decoding``), and the
optimal-transport retrieval over part counts (``retrieval``), tied together by
:class:`~samseg.adaptation.adaptor.PartAwareAdaptor`.
"""

from samseg.adaptation.adaptor import AdaptationResult, Candidate, PartAwareAdaptor
from samseg.adaptation.prototypes import KMeansSettings, ReferenceFeatures
from samseg.adaptation.retrieval import Distance, wasserstein_distance
from samseg.adaptation.settings import ADAPTATION_MODES, NEGATIVE_SOURCES, AdaptorSettings
from samseg.adaptation.token_grid import mask_to_token_grid, valid_region

__all__ = [
    "ADAPTATION_MODES",
    "NEGATIVE_SOURCES",
    "AdaptationResult",
    "AdaptorSettings",
    "Candidate",
    "Distance",
    "KMeansSettings",
    "PartAwareAdaptor",
    "ReferenceFeatures",
    "mask_to_token_grid",
    "valid_region",
    "wasserstein_distance",
]
