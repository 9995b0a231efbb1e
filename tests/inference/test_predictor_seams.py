"""Predictor seams: the case-context hook, networks not from a model folder, mirroring only
along the axes the checkpoints allow (and none with --disable_tta), recorded."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from samseg.cli.predict import main
from samseg.errors import SamsegInputError
from samseg.inference import SlicePredictor
from samseg.inference.case_context import CaseContext, CaseHook
from samseg.io import read_json
from samseg.models import build_sam
from samseg.preprocessing import preprocess_case
from tests.inference.conftest import TrainedModel
from tests.inference.helpers import blocky_case, make_description, make_plans, write_image

SPACING = (3.0, 0.8, 0.8)


def set_mirroring_axes(model: TrainedModel, fold: int, axes: list[int] | None) -> None:
    """Rewrite fold ``fold``'s checkpoint with other allowed mirroring axes (None: absent)."""
    path = model.folder / f"fold_{fold}" / "checkpoint_final.pth"
    content = torch.load(path, weights_only=True)
    content.pop("inference_allowed_mirroring_axes")
    if axes is not None:
        content["inference_allowed_mirroring_axes"] = axes
    torch.save(content, path)


class FlipRecorder(nn.Module):
    """Constant logits; records the flips of every batch (begin_batch hook)."""

    input_size = 32
    num_classes = 3

    def __init__(self) -> None:
        super().__init__()
        self.flips: set[tuple[int, ...]] = set()

    def begin_batch(self, batch) -> None:
        self.flips.add(batch.flip_dims)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(images), 3, *images.shape[-2:])


@pytest.mark.parametrize(
    ("axes", "use_mirroring", "flips"),
    [
        ((0, 1), True, {(), (2,), (3,), (2, 3)}),
        ((0,), True, {(), (2,)}),
        ((1,), True, {(), (3,)}),
        ((0, 1), False, {()}),
    ],
)
def test_the_predictor_flips_only_along_its_mirroring_axes(tmp_path, axes, use_mirroring, flips):
    plans = make_plans(input_size=32, num_labels=2)
    network = FlipRecorder()
    predictor = SlicePredictor(
        [network],
        plans,
        "2d_32",
        make_description(plans),
        use_mirroring=use_mirroring,
        mirror_axes=axes,
        show_progress=False,
    )
    image, _ = blocky_case((3, 20, 20), num_labels=2)
    case = preprocessed(image, plans, tmp_path)
    predictor.predict_preprocessed(case)
    assert network.flips == flips
    assert predictor.settings["mirror_axes"] == (list(axes) if use_mirroring else [])


def preprocessed(image, plans, folder, label=None):
    """The case ``image`` (and ``label``) written to ``folder`` and preprocessed with ``plans``."""
    path = write_image(folder / "case_0000.nii.gz", image, SPACING)
    label_path = None if label is None else write_image(folder / "case.nii.gz", label, SPACING)
    return preprocess_case([path], label_path, plans, make_description(plans).image_reader_writer())


def test_mirror_axes_outside_the_plane_are_refused():
    plans = make_plans(input_size=32, num_labels=2)
    with pytest.raises(SamsegInputError, match="mirror_axes"):
        SlicePredictor([FlipRecorder()], plans, "2d_32", make_description(plans), mirror_axes=(2,))


def test_a_model_folder_mirrors_along_the_axes_every_checkpoint_allows(trained_model):
    set_mirroring_axes(trained_model, 0, [0, 1])
    set_mirroring_axes(trained_model, 1, [1])
    both = SlicePredictor.from_model_folder(trained_model.folder, [0, 1], show_progress=False)
    assert both.mirror_axes == (1,) and both.ensemble.flips == ((), (3,))
    only_first = SlicePredictor.from_model_folder(trained_model.folder, [0], show_progress=False)
    assert only_first.mirror_axes == (0, 1)
    set_mirroring_axes(trained_model, 0, [])
    none = SlicePredictor.from_model_folder(trained_model.folder, [0], show_progress=False)
    assert none.ensemble.flips == ((),)
    set_mirroring_axes(trained_model, 0, None)
    old = SlicePredictor.from_model_folder(trained_model.folder, [0], show_progress=False)
    assert old.ensemble.flips == ((), (3,), (2,), (2, 3))


@pytest.mark.parametrize("disable_tta", [False, True])
def test_samseg_predict_records_the_mirroring_it_did(
    trained_model, test_images, tmp_path, disable_tta
):
    set_mirroring_axes(trained_model, 0, [1])
    output = tmp_path / "out"
    arguments = ["-i", str(test_images), "-o", str(output), "-m", str(trained_model.folder)]
    main([*arguments, "-f", "0", "-device", "cpu", *(["--disable_tta"] if disable_tta else [])])
    settings = read_json(output / "prediction_settings.json")
    assert settings["mirror_axes"] == ([] if disable_tta else [1])
    assert settings["use_mirroring"] is not disable_tta


class ReferenceAdaptor(nn.Module):
    """SAM weights plus a test-time adaptor: a SamSegmenter whose logits are shifted towards
    the classes of its reference case (a stand-in for P²SAM); records every case context."""

    def __init__(self, sam: nn.Module) -> None:
        super().__init__()
        self.sam = sam
        self.input_size = sam.input_size
        self.num_classes = sam.num_classes
        self.contexts: list[CaseContext] = []
        self.prior = torch.zeros(sam.num_classes)

    def begin_case(self, context: CaseContext) -> None:
        self.contexts.append(context)
        if context.reference is not None:
            label = torch.as_tensor(context.reference.label[:].astype("int64"))
            self.prior = torch.bincount(label.flatten(), minlength=self.num_classes).float()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.sam(images).logits + self.prior.log1p()[None, :, None, None]


def test_a_predictor_of_sam_weights_plus_an_adaptor_gets_each_case_context(tmp_path):
    plans = make_plans(input_size=32, num_labels=2)
    description = make_description(plans)
    torch.manual_seed(0)
    adaptor = ReferenceAdaptor(build_sam("vit_tiny", 32, None, num_classes=3))
    assert isinstance(adaptor, CaseHook)
    predictor = SlicePredictor([adaptor], plans, "2d_32", description, show_progress=False)
    cases = {}
    for index in range(2):
        image, _ = blocky_case((3, 20, 24), seed=index, num_labels=2)
        cases[f"pat{index}"] = [
            write_image(tmp_path / "in" / f"pat{index}_0000.nii.gz", image, SPACING)
        ]
    predictor.predict_to_files(cases, tmp_path / "out")
    assert [c.identifier for c in adaptor.contexts] == ["pat0", "pat1"]
    assert adaptor.contexts[0].case.data.shape[0] == 1 and adaptor.contexts[0].reference is None
    assert read_json(tmp_path / "out" / "prediction_settings.json")["networks"] == [
        "ReferenceAdaptor"
    ]

    image, label = blocky_case((3, 20, 24), seed=5, num_labels=2)
    reference = preprocessed(image, plans, tmp_path / "ref", label)
    without = predictor.predict_case(cases["pat0"], return_probabilities=True)
    with_reference = predictor.predict_case(
        cases["pat0"], return_probabilities=True, reference=reference
    )
    assert adaptor.contexts[-1].reference is reference
    assert adaptor.contexts[-1].identifier == "pat0"
    assert not (without.probabilities == with_reference.probabilities).all()
    unlabelled = preprocessed(image, plans, tmp_path / "unlabelled")
    with pytest.raises(SamsegInputError, match="expected an annotated case"):
        predictor.predict_case(cases["pat0"], reference=unlabelled)
