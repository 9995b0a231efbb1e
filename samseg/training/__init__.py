"""Training: cross-validation splits, slice data loading and augmentation, losses, schedules."""
