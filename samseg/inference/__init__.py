"""Prediction: volumes in, segmentations in their exact raw geometry out.

``SlicePredictor`` runs an ensemble of slice networks (see ``samseg.inference.network``)
over preprocessed volumes, slice group by slice group; documentation/inference.md describes
the pipeline, the network interface and the per-case hook.
"""

from samseg.inference.export import SegmentationExporter
from samseg.inference.inputs import find_cases
from samseg.inference.model_loading import ModelFolder, load_trained_network
from samseg.inference.network import (
    SegmenterNetwork,
    SliceBatch,
    SliceNetwork,
    as_slice_network,
)
from samseg.inference.postprocessing import keep_largest_component_per_label
from samseg.inference.precision import INFERENCE_PRECISIONS, InferencePrecision
from samseg.inference.slice_predictor import PredictedCase, SlicePredictor
from samseg.inference.tiling import PlaneTiling, gaussian_weights, window_starts

__all__ = [
    "INFERENCE_PRECISIONS",
    "InferencePrecision",
    "ModelFolder",
    "PlaneTiling",
    "PredictedCase",
    "SegmentationExporter",
    "SegmenterNetwork",
    "SliceBatch",
    "SliceNetwork",
    "SlicePredictor",
    "as_slice_network",
    "find_cases",
    "gaussian_weights",
    "keep_largest_component_per_label",
    "load_trained_network",
    "window_starts",
]
