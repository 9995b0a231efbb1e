"""Choices and defaults of prediction that ``samseg_predict --help`` shows (no heavy imports)."""

DEFAULT_CHECKPOINT = "checkpoint_final.pth"
