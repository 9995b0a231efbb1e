"""Preprocessing: crop to non-zero, slice axis first, in-plane resampling, normalization to
[0, 255], and blosc2 storage with per-case properties (see documentation/preprocessing.md)."""

from samseg.preprocessing.case import PreprocessedCase, preprocess_case
from samseg.preprocessing.cropping import (
    CropBox,
    crop_to_nonzero,
    nonzero_bounding_box,
    nonzero_mask,
)
from samseg.preprocessing.dataset import (
    PreprocessingReport,
    data_identifiers,
    is_up_to_date,
    preprocess_dataset,
)
from samseg.preprocessing.normalization import (
    NORMALIZATION_SCHEMES,
    CTNormalization,
    NormalizationScheme,
    ZScoreNormalization,
    normalization_for,
)
from samseg.preprocessing.properties import CaseProperties
from samseg.preprocessing.provenance import FileStamp, Provenance
from samseg.preprocessing.resampling import (
    in_plane_shape,
    needs_resampling,
    resample_argmax_in_plane,
    resample_in_plane,
    resample_labels_in_plane,
)
from samseg.preprocessing.storage import StoredCase, load_case, save_case, stored_identifiers

__all__ = [
    "NORMALIZATION_SCHEMES",
    "CTNormalization",
    "CaseProperties",
    "CropBox",
    "FileStamp",
    "NormalizationScheme",
    "PreprocessedCase",
    "PreprocessingReport",
    "Provenance",
    "StoredCase",
    "ZScoreNormalization",
    "crop_to_nonzero",
    "data_identifiers",
    "in_plane_shape",
    "is_up_to_date",
    "load_case",
    "needs_resampling",
    "nonzero_bounding_box",
    "nonzero_mask",
    "normalization_for",
    "preprocess_case",
    "preprocess_dataset",
    "resample_argmax_in_plane",
    "resample_in_plane",
    "resample_labels_in_plane",
    "save_case",
    "stored_identifiers",
]
