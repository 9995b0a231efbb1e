"""Click evaluation: known Dice values from a stub promptable network, NoC counts and caps,
the folder run (resume, bad label geometry) and samseg_evaluate_prompts end to end."""

from __future__ import annotations

import itertools
import json
import math
from typing import NamedTuple

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from samseg.evaluation.labels import EvaluationLabels
from samseg.evaluation.prompts import (
    ClassCounts,
    ClickEvaluationSettings,
    PromptCaseResult,
    PromptSummary,
    clicks_to_reach,
    evaluate_case_prompts,
    format_prompt_table,
)
from samseg.plans import SliceConfiguration

SIZE = 32
RADIUS = 3
INTENSITY = 40.0
"""Image value per label value: the stub reads which object a click is in from the image."""


pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Encoded(NamedTuple):
    image_embeddings: torch.Tensor


class Prompted(NamedTuple):
    low_res_logits: torch.Tensor
    iou_predictions: torch.Tensor


class StubPromptable(nn.Module):
    """A promptable network whose masks follow the prompts exactly.

    The embedding is the image's first channel, pixel-unshuffled (B, 16, S/4, S/4), so the
    image (INTENSITY x label) can be read back. A box predicts exactly its pixels; a positive
    point adds the disc of RADIUS around it, within the object the point lies in (the pixels
    of the same image value); a negative point removes its disc; the mask prompt (> 0) is
    the start. Logits are +-10, 4G = S.
    """

    def __init__(self, input_size: int = SIZE) -> None:
        super().__init__()
        self.input_size = input_size
        self.encoded_images = 0
        self.classes: list[int] = []
        """The ``classes`` of every prompt set decoded."""

    def encode(self, images: torch.Tensor) -> Encoded:
        self.encoded_images += len(images)
        return Encoded(F.pixel_unshuffle(images[:, :1], 4))

    def upscale_logits(self, low_res_logits: torch.Tensor) -> torch.Tensor:
        return low_res_logits

    def predict_with_prompts(
        self,
        embeddings,
        points=None,
        boxes=None,
        mask_inputs=None,
        *,
        multimask_output=False,
        classes=None,
    ) -> Prompted:
        self.classes += classes.tolist()
        image = F.pixel_shuffle(embeddings, 4)[:, 0]
        batch, size = len(image), image.shape[-1]
        rows = torch.arange(size)[:, None]
        columns = torch.arange(size)[None, :]
        masks = torch.zeros(batch, size, size, dtype=torch.bool)
        if mask_inputs is not None:
            masks |= mask_inputs[:, 0] > 0
        if boxes is not None:
            for i, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
                masks[i] |= (columns >= x0) & (columns <= x1) & (rows >= y0) & (rows <= y1)
        if points is not None:
            coordinates, labels = points
            for i in range(batch):
                for (x, y), label in zip(coordinates[i].tolist(), labels[i].tolist(), strict=True):
                    disc = (columns - x) ** 2 + (rows - y) ** 2 <= RADIUS**2
                    if label == 1:
                        masks[i] |= disc & (image[i] == image[i, int(y), int(x)])
                    elif label == 0:
                        masks[i] &= ~disc
        logits = torch.where(masks, 10.0, -10.0)[:, None]
        return Prompted(logits, torch.ones(batch, 1))


def configuration(input_size: int = SIZE, **changes) -> SliceConfiguration:
    values = dict(
        input_size=input_size,
        large_slice_handling="resize",
        sliding_window_step=0.5,
        context_slices=0,
        batch_size=4,
        model_type="vit_tiny",
        data_identifier="x",
    )
    return SliceConfiguration(**{**values, **changes})


def rectangles(num_slices: int = 3, shape=(SIZE, SIZE)) -> tuple[np.ndarray, np.ndarray]:
    """(1, z, R, C) image and (z, R, C) label: a 12 x 12 square of label 1 on every slice,
    a 6 x 16 bar of label 2 on the middle slice only, label 3 nowhere."""
    label = np.zeros((num_slices, *shape), dtype=np.int8)
    label[:, 4:16, 4:16] = 1
    label[num_slices // 2, 20:26, 8:24] = 2
    return (INTENSITY * label[None]).astype(np.float32), label


LABELS = EvaluationLabels(classes=(1, 2, 3), names=("square", "bar", "absent"))


def disc_in_square_dice() -> float:
    """Dice of one RADIUS disc at the square's centre pixel against the square (numpy)."""
    square = np.zeros((SIZE, SIZE), dtype=bool)
    square[4:16, 4:16] = True
    rows, columns = np.mgrid[:SIZE, :SIZE]
    # a pixel of the square's central ridge (distance 6 from its border): the disc fits inside
    disc = (columns - 9) ** 2 + (rows - 9) ** 2 <= RADIUS**2
    both = (disc & square).sum()
    return 2 * both / (disc.sum() + square.sum())


def test_box_is_exact_point_is_a_disc_and_clicks_grow_to_one():
    data, label = rectangles()
    network = StubPromptable()
    counts = evaluate_case_prompts(
        network, data, label, configuration(), LABELS, ClickEvaluationSettings(clicks=20)
    )
    square = counts["1"].dice()
    assert square[0] == 1.0
    assert square[1] == pytest.approx(disc_in_square_dice())
    clicks = square[2:]
    assert clicks[0] == pytest.approx(square[1])
    assert all(b >= a for a, b in itertools.pairwise(clicks))
    assert clicks[-1] == 1.0 and clicks[3] < 1.0
    assert counts["1"].reference_voxels == 3 * 144
    assert counts["2"].dice()[0] == 1.0 and counts["2"].reference_voxels == 96
    assert counts["3"].reference_voxels == 0 and math.isnan(counts["3"].dice()[0])
    assert network.encoded_images == 3, "each view is encoded once for every mode and click"
    assert set(network.classes) == {0, 1}, "label c's prompts are decoded as class c - 1"


def test_sliding_windows_and_views_without_the_class_keep_the_box_exact():
    data, label = rectangles(shape=(48, 40))
    windowed = configuration(slice_scaling="fixed_scale", large_slice_handling="sliding_window")
    counts = evaluate_case_prompts(
        StubPromptable(), data, label, windowed, LABELS, ClickEvaluationSettings(clicks=2)
    )
    for key in ("1", "2"):
        tp, fp, fn = counts[key].counts[0]
        assert fp == 0 and fn == 0 and tp > 0, key


def test_ignored_voxels_count_nowhere():
    data, label = rectangles()
    label[:, 8:10, 4:16] = 9  # an ignored stripe across the square, inside its box
    labels = EvaluationLabels(classes=(1,), names=("square",), ignore_label=9)
    counts = evaluate_case_prompts(
        StubPromptable(), data, label, configuration(), labels, ClickEvaluationSettings(clicks=1)
    )
    tp, fp, fn = counts["1"].counts[0]
    assert (tp, fp, fn) == (3 * 12 * 10, 0, 0)


def test_clicks_to_reach_counts_and_caps():
    assert clicks_to_reach([0.5, 0.86, 0.95], 0.85) == (2, True)
    assert clicks_to_reach([0.5, 0.86, 0.95], 0.90) == (3, True)
    assert clicks_to_reach([0.5, 0.6, 0.7], 0.85) == (3, False)
    assert clicks_to_reach([0.85], 0.85) == (1, True)


def counts_with_click_dice(reference: int, true_positives: list[int]) -> ClassCounts:
    """Counts without false positives: Dice = 2 TP / (TP + reference)."""
    rows = [[tp, 0, reference - tp] for tp in [reference, 0, *true_positives]]
    return ClassCounts(np.asarray(rows, dtype=np.int64))


def test_summary_means_noc_and_failures():
    reaching = counts_with_click_dice(100, [50, 80, 95])  # Dice 0.667, 0.889, 0.974
    failing = counts_with_click_dice(100, [10, 20, 30])
    absent = ClassCounts.zeros(3)
    cases = [
        PromptCaseResult("a", ("a_0000.nii.gz",), "a.nii.gz", {"1": reaching, "2": absent}),
        PromptCaseResult("b", ("b_0000.nii.gz",), "b.nii.gz", {"1": failing, "2": reaching}),
    ]
    labels = EvaluationLabels(classes=(1, 2), names=("one", "two"))
    summary = PromptSummary.from_cases(cases, labels, 3, {})
    one, two = summary.mean["1"], summary.mean["2"]
    assert one["NoC@85"] == pytest.approx((2 + 3) / 2) and one["NoF@85"] == 1
    assert one["NoC@90"] == pytest.approx((3 + 3) / 2) and one["NoF@90"] == 1
    assert two["NoC@85"] == 2 and two["NoF@85"] == 0 and two["cases"] == 1
    assert one["box Dice"] == 1.0 and one["point Dice"] == 0.0
    assert one["click Dice"][2] == pytest.approx((2 * 95 / 195 + 2 * 30 / 130) / 2)
    assert summary.foreground_mean["NoC@85"] == pytest.approx((2.5 + 2) / 2)
    assert summary.foreground_mean["NoF@90"] == 1
    case_a = summary.to_json()["metric_per_case"][0]["metrics"]
    assert case_a["2"]["NoC@85"] is None and case_a["1"]["NoC@85"] == 2
    assert PromptCaseResult.from_json(cases[1].to_json()).classes["1"].counts.tolist() == (
        failing.counts.tolist()
    )
    table = format_prompt_table(summary)
    assert "NoC@85" in table and "foreground mean" in table and "3 clicks" in table


# --- samseg_evaluate_prompts on a tiny dataset with tiny random networks --------------------


@pytest.fixture
def prompt_dataset(roots, tmp_path):
    """Two cases (images and labels on the same grid), plans of a 64-pixel vit_tiny
    configuration in PREPROCESSED/Dataset950_Inference, and a model folder of it (fold 0)."""
    from samseg.io import write_json
    from samseg.paths import DATASET_JSON_COPY, model_folder
    from tests.inference.conftest import CONFIGURATION, DATASET, TRAINER, write_model_folder
    from tests.inference.helpers import blocky_case, make_description, make_plans, write_image

    plans = make_plans(input_size=64, batch_size=2)
    description = make_description(plans)
    preprocessed = roots["preprocessed"] / DATASET
    preprocessed.mkdir()
    plans.save(preprocessed / "samsegPlans.json")
    write_json(description.to_json(), preprocessed / DATASET_JSON_COPY)
    images, labels = tmp_path / "imagesTs", tmp_path / "labelsTs"
    for index, shape in enumerate([(4, 30, 34), (3, 28, 28)]):
        image, label = blocky_case(shape, seed=index)
        write_image(images / f"case{index}_0000.nii.gz", image, (3.0, 0.8, 0.8))
        write_image(labels / f"case{index}.nii.gz", label, (3.0, 0.8, 0.8))
    folder = model_folder(DATASET, TRAINER, "samsegPlans", CONFIGURATION)
    write_model_folder(folder, plans, description, (0,))
    return {"images": images, "labels": labels, "model": folder, "write_image": write_image}


def run_cli(*arguments) -> None:
    from samseg.cli.evaluate_prompts import main

    main([*map(str, arguments), "-device", "cpu", "-num_threads", "1"])


def test_cli_writes_summary_plot_and_table_and_resumes(prompt_dataset, tmp_path, capsys):
    output = tmp_path / "clicks"
    source = ("-d", "950", "-c", "2d_64", "--sam_checkpoint", "none", "--model_type", "vit_tiny")
    common = ("-i", prompt_dataset["images"], "-ref", prompt_dataset["labels"], "-o", output)
    run_cli(*common, *source, "--clicks", 3)
    printed = capsys.readouterr().out
    assert "NoC@85" in printed and "organ1" in printed and "foreground mean" in printed
    summary = json.loads((output / "prompt_summary.json").read_text())
    assert [c["identifier"] for c in summary["metric_per_case"]] == ["case0", "case1"]
    assert set(summary["mean"]) == {"1", "2", "3"}
    assert len(summary["mean"]["1"]["click Dice"]) == 3
    assert summary["settings"]["clicks"] == 3
    assert summary["settings"]["network"]["model_type"] == "vit_tiny"
    assert (output / "clicks.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    case_file = output / "cases" / "case0.json"
    written = case_file.stat().st_mtime_ns
    run_cli(*common, *source, "--clicks", 3)
    assert case_file.stat().st_mtime_ns == written, "a finished case is not evaluated again"
    assert json.loads((output / "prompt_summary.json").read_text())["mean"] == summary["mean"]
    with pytest.raises(SystemExit) as exit_info:
        run_cli(*common, *source, "--clicks", 4)
    assert exit_info.value.code == 2
    assert "case0.json" in capsys.readouterr().err


def test_cli_evaluates_a_trained_model_folder(prompt_dataset, tmp_path):
    output = tmp_path / "clicks"
    run_cli(
        *("-i", prompt_dataset["images"] / "case1_0000.nii.gz", "-ref", prompt_dataset["labels"]),
        *("-o", output, "-m", prompt_dataset["model"], "--clicks", 2),
    )
    summary = json.loads((output / "prompt_summary.json").read_text())
    assert [c["identifier"] for c in summary["metric_per_case"]] == ["case1"]
    assert summary["settings"]["network"]["model_folder"] == str(prompt_dataset["model"])


def test_a_label_on_another_grid_is_an_error_naming_it(prompt_dataset, tmp_path, capsys):
    from tests.inference.helpers import blocky_case

    _, label = blocky_case((3, 28, 28), seed=1)
    bad = prompt_dataset["write_image"](
        prompt_dataset["labels"] / "case1.nii.gz", label, (3.0, 0.8, 0.8), origin=(1.0, 2.0, 3.0)
    )
    output = tmp_path / "clicks"
    with pytest.raises(SystemExit) as exit_info:
        run_cli(
            *("-i", prompt_dataset["images"], "-ref", prompt_dataset["labels"], "-o", output),
            *("-m", prompt_dataset["model"], "--clicks", 1),
        )
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert str(bad) in message and "origin" in message
    assert not (output / "cases" / "case1.json").exists()
    assert not (output / "prompt_summary.json").exists()


def test_cli_source_flags_are_checked(capsys):
    for arguments, expected in (
        (("-d", "1", "-c", "2d_64"), "exactly one of -tr"),
        (("-d", "1", "-c", "2d_64", "-tr", "T", "--sam_checkpoint", "none"), "exactly one of -tr"),
        (("-m", "folder", "-d", "1"), "found also -d"),
        (("-d", "1", "-c", "2d_64", "-tr", "T", "--model_type", "vit_b"), "only with"),
        (("-d", "1", "-tr", "T"), "expected -m MODEL_FOLDER"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            run_cli("-i", "x", "-ref", "y", "-o", "z", *arguments)
        assert exit_info.value.code == 2, arguments
        assert expected in capsys.readouterr().err, arguments
    from samseg.cli.evaluate_prompts import build_parser

    packaged = build_parser().parse_args(
        ["-i", "x", "-ref", "y", "-o", "z", "-d", "1", "-c", "2d_256", "--sam_checkpoint"]
    )
    assert packaged.sam_checkpoint == "packaged"


# --- the packaged LiteMedSAM on the shared real CT --------------------------------------------

REAL_CT = "/work/shared/data/Dataset901_AbdomenCTExample"
LIVER = 5


def test_litemedsam_boxes_beat_single_points_on_real_data_liver():
    """Two axial slices of the real CT (largest liver area), windowed to 0-255, each
    repeated into SAM's channels, resized to 256: LiteMedSAM's boxes segment the liver, its
    single points (it was trained with boxes only) do not."""
    from pathlib import Path

    import SimpleITK as sitk

    from samseg.models import build_sam, get_encoder_family

    folder = Path(REAL_CT)
    checkpoint = get_encoder_family("litemedsam").default_checkpoint("litemedsam")
    if not folder.is_dir() or checkpoint is None:
        pytest.skip("needs ../shared/data and the packaged LiteMedSAM weights")
    image = sitk.GetArrayFromImage(sitk.ReadImage(str(folder / "imagesTr/abd_001_0000.nii.gz")))
    label = sitk.GetArrayFromImage(sitk.ReadImage(str(folder / "labelsTr/abd_001.nii.gz")))
    chosen = np.sort(np.argsort((label == LIVER).sum(axis=(1, 2)))[-2:])
    windowed = (np.clip(image[chosen], -160, 240) + 160) * (255 / 400)
    network = build_sam("litemedsam", 256, checkpoint)
    liver = EvaluationLabels(classes=(LIVER,), names=("liver",))
    counts = evaluate_case_prompts(
        network,
        windowed[None].astype(np.float32),
        label[chosen].astype(np.int16),
        configuration(256, batch_size=2),
        liver,
        ClickEvaluationSettings(clicks=1, batch_size=2),
    )
    box, point, _ = counts[str(LIVER)].dice()
    assert box > 0.8
    assert point < box - 0.3


def test_an_ensemble_of_folds_is_refused(tmp_path):
    from samseg.errors import SamsegInputError
    from samseg.evaluation.prompts import evaluate_prompts
    from samseg.inference import PromptableModel

    model = PromptableModel((StubPromptable(), StubPromptable()), None, "2d_32", None, {})
    with pytest.raises(SamsegInputError, match="expected one network"):
        evaluate_prompts(model, {"a": [tmp_path / "a_0000.nii.gz"]}, tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
