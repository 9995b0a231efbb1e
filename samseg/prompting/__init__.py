"""Prompts for SAM simulated from reference masks: modes, simulation and decoding.

Used by prompted prediction (``samseg_predict --prompts``), click evaluation
(``samseg_evaluate_prompts``) and the interactive trainer's box prompts.
"""

from samseg.prompting.modes import PROMPT_KINDS, PROMPT_MODE_SYNTAX, PromptKind, PromptMode
from samseg.prompting.session import PromptingSettings, decode_prompt_mode
from samseg.prompting.simulation import (
    Click,
    corrective_click,
    farthest_interior_point,
    random_interior_points,
    tight_box,
    tight_boxes,
)

__all__ = [
    "PROMPT_KINDS",
    "PROMPT_MODE_SYNTAX",
    "Click",
    "PromptKind",
    "PromptMode",
    "PromptingSettings",
    "corrective_click",
    "decode_prompt_mode",
    "farthest_interior_point",
    "random_interior_points",
    "tight_box",
    "tight_boxes",
]
