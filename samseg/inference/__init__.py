"""Prediction: volumes in, segmentations in their exact raw geometry out.

``SlicePredictor`` runs an ensemble of slice networks (see ``samseg.inference.network``)
over preprocessed volumes, slice group by slice group; documentation/inference.md describes
the pipeline, the network interface and the per-case hook.

Names are imported on first use (``samseg.inference.defaults`` is what ``samseg_predict
--help`` needs).
"""

from samseg.lazy_exports import exported_names, lazy_exports

_EXPORTS = {
    "export": ("SegmentationExporter",),
    "inputs": ("find_cases",),
    "model_loading": ("ModelFolder", "load_trained_network"),
    "network": ("SegmenterNetwork", "SliceBatch", "SliceNetwork", "as_slice_network"),
    "postprocessing": ("keep_largest_component_per_label",),
    "prompted_prediction": (
        "PromptableModel",
        "PromptedPredictor",
        "load_promptable_model_folder",
        "load_sam_for_prompts",
    ),
    "slice_predictor": ("PredictedCase", "SlicePredictor"),
    "slice_prompting": ("SlicePromptResult", "SlicePrompter"),
    "tiling": ("PlaneTiling", "gaussian_weights", "window_starts"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = exported_names(_EXPORTS)
