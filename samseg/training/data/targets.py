"""Label values -> training targets (class indices; the ignore label -> IGNORE_INDEX)."""

from __future__ import annotations

import numpy as np

from samseg.errors import SamsegInputError
from samseg.plans import LabelHandling
from samseg.training.loss import IGNORE_INDEX


class ClassIndexTargets:
    """Maps stored label values to the class indices the loss expects.

    Label value v is class v (dataset.json labels are consecutive from background 0); the
    ``ignore`` label becomes :data:`IGNORE_INDEX`. Region-based labels (nnU-Net's overlapping
    regions, trained with sigmoid outputs) have no class-index form and are refused.

    Args:
        label_handling: the plans' label handling.
        source: where ``label_handling`` came from, for error messages.
    """

    def __init__(self, label_handling: LabelHandling, source: str = "plans") -> None:
        if label_handling.regions_class_order is not None:
            raise SamsegInputError(
                f"{source}: region-based labels are not supported for SAM training yet "
                f"(found regions_class_order {list(label_handling.regions_class_order)})"
            )
        ignore = label_handling.ignore_label
        ordinary = sorted(v for v in label_handling.label_values if v != ignore)
        if ordinary != list(range(label_handling.num_classes)):
            raise SamsegInputError(
                f"{source}: expected label values 0..{label_handling.num_classes - 1} (one per "
                f"class, background 0), found {ordinary}"
            )
        self.num_classes = label_handling.num_classes
        self._lookup = np.arange(max(label_handling.label_values) + 1, dtype=np.int64)
        if ignore is not None:
            self._lookup[ignore] = IGNORE_INDEX

    def __call__(self, labels: np.ndarray) -> np.ndarray:
        """(...) int64 targets of (...) label values (any numeric dtype holding integers)."""
        return self._lookup[labels.astype(np.int64, copy=False)]
