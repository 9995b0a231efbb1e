"""The Synapse protocol of TransUNet and SAMed: Dice and HD95 per organ and 3D volume.

TransUNet (``utils.py``) scores each organ of each test volume with::

    def calculate_metric_percase(pred, gt):
        pred[pred > 0] = 1
        gt[gt > 0] = 1
        if pred.sum() > 0 and gt.sum() > 0:
            dice = metric.binary.dc(pred, gt)
            hd95 = metric.binary.hd95(pred, gt)
            return dice, hd95
        elif pred.sum() > 0 and gt.sum() == 0:
            return 1, 0
        else:
            return 0, 0

and averages the per-case values over cases, then over the 8 organs. SAMed reuses it. Note the
HD95 has no voxel spacing (it is in voxels), and that an organ absent from both prediction and
reference scores Dice 0, HD95 0 (the ``else`` branch), not 1: published tables include those
zeros, so this module keeps them.
"""

from __future__ import annotations

import numpy as np

from samseg.evaluation.surface import surface_distances


def transunet_dice_hd95(prediction: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """``calculate_metric_percase(pred, gt)`` of TransUNet: (Dice, HD95 in voxels).

    Args:
        prediction: mask of one organ in one volume, any number of axes; nonzero is foreground.
        reference: the reference mask, same shape.
    """
    prediction, reference = np.asarray(prediction) > 0, np.asarray(reference) > 0
    prediction_sum, reference_sum = np.count_nonzero(prediction), np.count_nonzero(reference)
    if prediction_sum > 0 and reference_sum > 0:
        overlap = np.count_nonzero(prediction & reference)
        dice = 2.0 * overlap / (prediction_sum + reference_sum)
        unit_spacing = (1.0,) * prediction.ndim
        return dice, surface_distances(reference, prediction, unit_spacing).hausdorff95()
    if prediction_sum > 0 and reference_sum == 0:
        return 1.0, 0.0
    return 0.0, 0.0
