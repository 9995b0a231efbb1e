"""Click evaluation (``samseg_evaluate_prompts``): box Dice, 1-point Dice, Dice after 1 .. N
corrective clicks, NoC@85/90 and NoF per class, in the plans' preprocessed grid.

The promptable network comes from ``samseg.inference.prompted_prediction``
(``load_promptable_model_folder``, ``load_sam_for_prompts``), as for prompted prediction. See
documentation/evaluation.md.
"""

from samseg.evaluation.prompts.case import evaluate_case_prompts
from samseg.evaluation.prompts.measures import (
    NOC_THRESHOLDS,
    ClassCounts,
    clicks_to_reach,
    dice_from_counts,
)
from samseg.evaluation.prompts.plot import plot_click_curves
from samseg.evaluation.prompts.report import format_prompt_table
from samseg.evaluation.prompts.run import evaluate_prompts
from samseg.evaluation.prompts.settings import DEFAULT_CLICKS, ClickEvaluationSettings
from samseg.evaluation.prompts.summary import PromptCaseResult, PromptSummary

__all__ = [
    "DEFAULT_CLICKS",
    "NOC_THRESHOLDS",
    "ClassCounts",
    "ClickEvaluationSettings",
    "PromptCaseResult",
    "PromptSummary",
    "clicks_to_reach",
    "dice_from_counts",
    "evaluate_case_prompts",
    "evaluate_prompts",
    "format_prompt_table",
    "plot_click_curves",
]
