"""P²SAM on CT: a prior scan of the patient as the reference, a follow-up segmented.

Used by ``p2sam.py`` (section ``ct``). The reference is the annotated training part of
``Dataset901_AbdomenCTExample`` as ``interactive_finetuning.py`` cuts it (slices below and
above a held-out slab of 17 slices centred on slice 86); the targets are the held-out slab
and a simulated follow-up of it (:func:`simulate_follow_up`). One
:class:`~samseg.adaptation.P2SAMSliceNetwork` per backbone encodes the reference once; each
mode then predicts both targets through the ordinary slice predictor (outputs in the
targets' geometry), and the outputs are scored against the targets' labels: volume Dice per
organ (false positives on slices without the organ count) and slice-level presence
precision and recall (a (slice, organ) pair is predicted present when the output holds the
organ on that slice).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from samseg.adaptation import AdaptorSettings, P2SAMSliceNetwork, preprocess_references
from samseg.adaptation.run import reference_classes
from samseg.adaptation.volume import VolumeSettings, encode_slices, single_view
from samseg.evaluation.metrics import dice
from samseg.inference import SlicePredictor
from samseg.inference.prompted_prediction import PromptableModel
from samseg.io import reader_writer_for, write_json
from samseg.preprocessing import preprocess_case

FOLLOW_UP = {
    "rotation_degrees": 3.0,
    "shift_mm": (4.0, -3.0, 0.0),
    "intensity_scale": 1.04,
    "intensity_offset_hu": 20.0,
    "noise_sd_hu": 15.0,
    "seed": 0,
}
"""The simulated follow-up: a rotation about the slice normal through the volume's centre, an
in-plane shift, a linear intensity change and Gaussian noise (image only)."""

MODES = {
    "PerSAM": AdaptorSettings(mode="persam"),
    "P²SAM points 1..5": AdaptorSettings(positive_parts=(1, 5)),
    "box variant 1..5": AdaptorSettings(positive_parts=(1, 5), prompt_type="box"),
}


def simulate_follow_up(image_file: Path, label_file: Path, folder: Path, identifier: str) -> None:
    """Write ``folder/images/ID_0000.nii.gz`` and ``folder/labels/ID.nii.gz``: the case moved
    rigidly (linear image, nearest label resampling, same grid), the image's intensities
    changed and noised (:data:`FOLLOW_UP`)."""
    image, label = sitk.ReadImage(str(image_file)), sitk.ReadImage(str(label_file))
    size = np.asarray(image.GetSize(), dtype=np.float64)
    centre = image.TransformContinuousIndexToPhysicalPoint(((size - 1) / 2).tolist())
    transform = sitk.Euler3DTransform()
    transform.SetCenter(centre)
    normal = np.asarray(image.GetDirection()).reshape(3, 3)[:, 2]
    angle = np.deg2rad(FOLLOW_UP["rotation_degrees"])
    transform.SetRotation(*(angle * normal).tolist())
    transform.SetTranslation(FOLLOW_UP["shift_mm"])
    moved = sitk.Resample(image, image, transform, sitk.sitkLinear, -1024.0, sitk.sitkFloat32)
    pixels = sitk.GetArrayFromImage(moved)
    noise = np.random.default_rng(FOLLOW_UP["seed"]).normal(
        0, FOLLOW_UP["noise_sd_hu"], pixels.shape
    )
    pixels = pixels * FOLLOW_UP["intensity_scale"] + FOLLOW_UP["intensity_offset_hu"] + noise
    result = sitk.GetImageFromArray(np.round(pixels).astype(np.int16))
    result.CopyInformation(image)
    moved_label = sitk.Resample(label, label, transform, sitk.sitkNearestNeighbor, 0)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(result, str(folder / "images" / f"{identifier}_0000.nii.gz"))
    sitk.WriteImage(moved_label, str(folder / "labels" / f"{identifier}.nii.gz"))


def scores(prediction_file: Path, label_file: Path, classes: list[int]) -> dict:
    """Volume Dice per class and slice-level presence counts of one prediction."""
    prediction = sitk.GetArrayFromImage(sitk.ReadImage(str(prediction_file)))
    truth = sitk.GetArrayFromImage(sitk.ReadImage(str(label_file)))
    result = {"dice": {}, "presence": [0, 0, 0]}  # true pos., false pos., false neg. slices
    for value in classes:
        result["dice"][str(value)] = dice(truth == value, prediction == value)
        present = (truth == value).any(axis=(1, 2))
        predicted = (prediction == value).any(axis=(1, 2))
        result["presence"][0] += int((present & predicted).sum())
        result["presence"][1] += int((~present & predicted).sum())
        result["presence"][2] += int((present & ~predicted).sum())
    return result


def encoder_seconds_per_slice(model: PromptableModel, image_file: Path) -> float:
    """Wall seconds per slice of the network's encoder on the target's slices."""
    configuration = model.plans.configuration(model.configuration)
    case = preprocess_case([image_file], None, model.plans, reader_writer_for(image_file))
    view = single_view(case.data.shape[-2:], configuration, image_file.name)
    slices = list(range(case.data.shape[1]))
    start = time.perf_counter()
    encode_slices(model.networks[0], case.data, slices, configuration, view, 4)
    return (time.perf_counter() - start) / len(slices)


def adapt_ct(
    model: PromptableModel,
    references: list[tuple[list[Path], Path]],
    targets: dict[str, tuple[Path, Path]],
    work: Path,
    volume: VolumeSettings,
) -> dict:
    """Every mode on every target: Dice per class, presence counts, seconds per slice."""
    pieces = preprocess_references(model, references)
    classes = reference_classes(pieces, str(references[0][1]))
    network = P2SAMSliceNetwork(
        model.networks[0],
        model.plans.configuration(model.configuration),
        classes,
        model.plans.label_handling.num_classes,
        volume=volume,
        references=pieces,
    )
    predictor = SlicePredictor(
        [network],
        model.plans,
        model.configuration,
        model.description,
        use_mirroring=False,
        show_progress=False,
    )
    first = next(iter(targets))
    network.adaptor_settings = MODES["PerSAM"]
    start = time.perf_counter()  # the first case builds (encodes) the reference volume
    predictor.predict_to_files({first: [targets[first][0]]}, work / "reference_warm_up")
    result = {"classes": classes, "modes": {}, "first_run_seconds": time.perf_counter() - start}
    result["encoder_seconds_per_slice"] = encoder_seconds_per_slice(model, targets[first][0])
    for mode, settings in MODES.items():
        network.adaptor_settings = settings
        mode_result = {}
        for identifier, (image, label) in targets.items():
            folder = work / mode.replace(" ", "_").replace(".", "") / identifier
            slices = sitk.ReadImage(str(image)).GetSize()[2]
            start = time.perf_counter()
            network.records.clear()
            predictor.predict_to_files({identifier: [image]}, folder)
            seconds = time.perf_counter() - start
            write_json({"slices": network.records}, folder / "prompt_records.json")
            ending = model.description.file_ending
            mode_result[identifier] = {
                **scores(folder / f"{identifier}{ending}", label, classes),
                "seconds_per_slice": seconds / slices,
            }
        result["modes"][mode] = mode_result
    return result
