"""The reorientation each case needs to reach its plans' orientation (``samseg.io.orientation``
has the axis codes and the exact array and geometry operations)."""

from __future__ import annotations

import logging

from samseg.io import ImageGeometry
from samseg.io.orientation import IDENTITY, Reorientation, axis_codes
from samseg.plans import Plans

logger = logging.getLogger(__name__)


def case_reorientation(geometry: ImageGeometry, plans: Plans) -> Reorientation:
    """The reorientation from a case's stored voxel order to ``plans.orientation``.

    The identity when the case is stored like the training data, and for plans without an
    orientation (written before samseg recorded it).
    """
    if plans.orientation is None:
        return IDENTITY
    return Reorientation.between(axis_codes(geometry.direction), plans.orientation)


def warn_if_orientation_unknown(plans: Plans) -> None:
    """Log one warning line when ``plans`` record no training orientation (plans from before
    it was recorded): cases are then sliced in their stored voxel order, as those plans were
    made."""
    if plans.orientation is None:
        logger.warning(
            f"plans {plans.plans_name} of {plans.dataset_name} record no training orientation "
            f"(written by an older samseg): cases are sliced along array axis "
            f"{plans.slice_axis} as stored, so a case stored in another axis order than the "
            f"training data is segmented wrongly (plans made with samseg_plan_and_preprocess "
            f"--overwrite record it)"
        )
