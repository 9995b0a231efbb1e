"""Evaluation of segmentations: Dice, IoU, HD95, NSD per case and class -> summary.json.

``evaluate_folders`` scores a folder of predictions against references and writes nnU-Net v2's
summary.json; the metric functions work on plain arrays.
"""

from samseg.evaluation.case import CaseResult, evaluate_arrays
from samseg.evaluation.dataset_inputs import DatasetEvaluationInputs, dataset_evaluation_inputs
from samseg.evaluation.folders import evaluate_folders, infer_file_ending
from samseg.evaluation.labels import EvaluationLabels, LabelOrRegion, class_key
from samseg.evaluation.metrics import METRIC_NAMES, dice, hausdorff95, iou, surface_dice
from samseg.evaluation.report import format_problems, format_table
from samseg.evaluation.summary import EvaluationSummary, MissingCase
from samseg.evaluation.surface import SurfaceDistances, surface_distances
from samseg.evaluation.synapse import transunet_dice_hd95

__all__ = [
    "METRIC_NAMES",
    "CaseResult",
    "DatasetEvaluationInputs",
    "EvaluationLabels",
    "EvaluationSummary",
    "LabelOrRegion",
    "MissingCase",
    "SurfaceDistances",
    "class_key",
    "dataset_evaluation_inputs",
    "dice",
    "evaluate_arrays",
    "evaluate_folders",
    "format_problems",
    "format_table",
    "hausdorff95",
    "infer_file_ending",
    "iou",
    "surface_dice",
    "surface_distances",
    "transunet_dice_hd95",
]
