"""All classes of one case at once: per-class agreement, ignore label, regions, Synapse mode."""

from __future__ import annotations

import math

import numpy as np
import pytest
from medpy.metric import binary as medpy_binary

from samseg.evaluation import (
    METRIC_NAMES,
    EvaluationLabels,
    dice,
    evaluate_arrays,
    hausdorff95,
    iou,
    surface_dice,
)

SPACING = (2.0, 0.8, 1.1)


def label_maps(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(z, y, x) uint8 reference with labels 1..3 and a prediction that gets them partly wrong."""
    rng = np.random.default_rng(seed)
    reference = np.zeros((14, 32, 30), np.uint8)
    reference[2:9, 4:14, 3:12] = 1
    reference[4:12, 16:28, 14:26] = 2
    reference[9:13, 5:9, 20:27] = 3
    prediction = np.roll(reference, (1, -1, 2), axis=(0, 1, 2))
    prediction[rng.random(reference.shape) < 0.003] = 2
    prediction[prediction == 3] = 0  # class 3 missed entirely
    return reference, prediction


def test_every_class_equals_the_array_functions():
    reference, prediction = label_maps()
    labels = EvaluationLabels.from_values([1, 2, 3])
    results = evaluate_arrays(reference, prediction, labels, SPACING, nsd_tolerance_mm=1.5)
    assert list(results) == ["1", "2", "3"]
    voxel_volume = float(np.prod(SPACING))
    for value in (1, 2, 3):
        metrics = results[str(value)]
        assert tuple(metrics) == METRIC_NAMES
        ref, pred = reference == value, prediction == value
        assert metrics["TP"] == np.count_nonzero(ref & pred)
        assert metrics["FP"] == np.count_nonzero(~ref & pred)
        assert metrics["FN"] == np.count_nonzero(ref & ~pred)
        assert metrics["TN"] == np.count_nonzero(~ref & ~pred)
        assert metrics["n_ref"] == ref.sum() and metrics["n_pred"] == pred.sum()
        assert metrics["volume_ref_mm3"] == pytest.approx(ref.sum() * voxel_volume)
        assert metrics["volume_pred_mm3"] == pytest.approx(pred.sum() * voxel_volume)
        expected = (
            dice(ref, pred),
            iou(ref, pred),
            hausdorff95(ref, pred, SPACING),
            surface_dice(ref, pred, 1.5, SPACING),
        )
        found = tuple(metrics[m] for m in ("Dice", "IoU", "HD95", "NSD"))
        np.testing.assert_allclose(found, expected, atol=1e-12)
    assert math.isnan(results["3"]["HD95"]) and results["3"]["Dice"] == 0.0
    assert results["1"]["HD95"] == pytest.approx(
        medpy_binary.hd95(prediction == 1, reference == 1, voxelspacing=SPACING), abs=1e-6
    )


def test_ignore_label_voxels_count_for_nothing():
    reference, prediction = label_maps()
    ignored = np.zeros(reference.shape, bool)
    ignored[:, :, :4] = True
    reference_with_ignore = np.where(ignored, 4, reference)
    labels = EvaluationLabels.from_values([1, 2], ignore_label=4)
    results = evaluate_arrays(reference_with_ignore, prediction, labels, SPACING)
    valid = ~ignored
    for value in (1, 2):
        ref, pred = (reference == value) & valid, (prediction == value) & valid
        metrics = results[str(value)]
        assert metrics["TP"] == np.count_nonzero(ref & pred)
        assert metrics["FP"] == np.count_nonzero(~ref & pred & valid)
        assert metrics["FN"] == np.count_nonzero(ref & ~pred)
        assert metrics["TN"] == np.count_nonzero(~ref & ~pred & valid)
        assert metrics["Dice"] == pytest.approx(dice(ref, pred))
        assert metrics["HD95"] == pytest.approx(hausdorff95(ref, pred, SPACING))


def test_regions_are_unions_of_labels():
    reference, prediction = label_maps()
    labels = EvaluationLabels.from_values([(1, 2, 3), (2, 3), 3])
    results = evaluate_arrays(reference, prediction, labels, SPACING)
    assert list(results) == ["(1, 2, 3)", "(2, 3)", "3"]
    for key, values in (("(1, 2, 3)", [1, 2, 3]), ("(2, 3)", [2, 3])):
        ref, pred = np.isin(reference, values), np.isin(prediction, values)
        assert results[key]["Dice"] == pytest.approx(dice(ref, pred))
        assert results[key]["HD95"] == pytest.approx(hausdorff95(ref, pred, SPACING))


def test_background_class_and_absent_class():
    reference, prediction = label_maps()
    labels = EvaluationLabels.from_values([0, 5])
    results = evaluate_arrays(reference, prediction, labels, SPACING)
    assert results["0"]["Dice"] == pytest.approx(dice(reference == 0, prediction == 0))
    absent = results["5"]
    assert math.isnan(absent["Dice"]) and math.isnan(absent["HD95"]) and math.isnan(absent["NSD"])
    assert absent["TP"] == absent["FP"] == absent["FN"] == 0 and absent["TN"] == reference.size


def test_synapse_protocol_scores_dice_and_hd95_like_transunet():
    reference, prediction = label_maps()
    prediction[prediction == 1] = 0  # class 1: missed
    prediction[0, 0, 0] = 4  # class 4: only predicted
    labels = EvaluationLabels.from_values([1, 2, 3, 4, 5])
    results = evaluate_arrays(reference, prediction, labels, SPACING, synapse_protocol=True)
    ref, pred = reference == 2, prediction == 2
    assert results["2"]["Dice"] == pytest.approx(medpy_binary.dc(pred, ref))
    assert results["2"]["HD95"] == pytest.approx(medpy_binary.hd95(pred, ref), abs=1e-6)
    assert (results["1"]["Dice"], results["1"]["HD95"]) == (0.0, 0.0)
    assert (results["4"]["Dice"], results["4"]["HD95"]) == (1.0, 0.0)
    assert (results["5"]["Dice"], results["5"]["HD95"]) == (0.0, 0.0)
    assert results["2"]["NSD"] == pytest.approx(surface_dice(ref, pred, 2.0, SPACING))


def test_labels_are_validated():
    with pytest.raises(ValueError, match="ignore label"):
        EvaluationLabels.from_values([1, 2], ignore_label=2)
    with pytest.raises(ValueError, match="distinct"):
        EvaluationLabels.from_values([1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        EvaluationLabels.from_values([-1])
