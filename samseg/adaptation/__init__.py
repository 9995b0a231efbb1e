"""Test-time adaptors built on SAM's promptable interface: P²SAM and PerSAM.

One annotated reference (an image and its mask, or a prior scan of the same patient) becomes
part-aware point (or box) prompts for a new target, without training (see
``shared/methods/p2sam.md`` and documentation/adaptation.md): reference tokens and part
prototypes (``prototypes``), similarity maps and points (``similarity``), SAM's decoding chain
(``decoding``), the optimal-transport retrieval over part counts (``retrieval``), tied together
by :class:`~samseg.adaptation.adaptor.PartAwareAdaptor`; prior scans as references
(``volume``), the predictor's slice network (``slice_network``), ``samseg_adapt``'s API
(``run``) and ``samseg_predict --adaptor``'s, each case with its own prior scan (``priors``).
Names are imported on first use (``vocabulary`` is what ``--help`` needs).
"""

from samseg.lazy_exports import exported_names, lazy_exports

_EXPORTS = {
    "adaptor": ("AdaptationResult", "Candidate", "PartAwareAdaptor"),
    "priors": ("adapt_with_priors",),
    "prototypes": ("KMeansSettings", "ReferenceFeatures"),
    "retrieval": ("Distance", "wasserstein_distance"),
    "run": ("adapt_to_folder", "preprocess_references"),
    "settings": ("AdaptorSettings",),
    "slice_network": ("P2SAMSliceNetwork",),
    "token_grid": ("mask_to_token_grid", "valid_region"),
    "vocabulary": ("ADAPTATION_MODES", "NEGATIVE_SOURCES", "POOLINGS", "PROMPT_TYPES"),
    "volume": ("ReferenceVolume", "VolumeSettings"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = exported_names(_EXPORTS)
