"""ProMISe's training pieces: the loss and label-sampled point prompts (the trainers are in
``samseg.training.trainers.promise``)."""

from samseg.training.promise.loss import ProMISeLoss, foreground_targets
from samseg.training.promise.prompts import PADDING_LABEL, label_points

__all__ = ["PADDING_LABEL", "ProMISeLoss", "foreground_targets", "label_points"]
