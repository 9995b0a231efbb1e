"""``samseg_adapt``'s API: annotated reference(s) in, target cases segmented by P²SAM, no training.

:func:`adapt_to_folder` preprocesses the reference pieces with the model's plans, wraps the
promptable network in :class:`~samseg.adaptation.slice_network.P2SAMSliceNetwork`, and runs the
ordinary slice predictor over the targets (so outputs have the inputs' exact geometry, are
written atomically and never replace an input). With ``save_prompts`` it also writes
``OUTPUT/prompts/CASE.json``: per slice and class, whether it was prompted (or why not), the
presence score and threshold, every candidate's part counts, points, box, predicted IoU and OT
distance (POT's warning included), and the chosen candidate; with ``save_overlays``, a PNG per
prompted slice and class in ``OUTPUT/prompts/overlays/`` (``samseg.adaptation.overlays``).

:func:`run_adaptor` is the one code path of :func:`adapt_to_folder` and of
``samseg_predict --adaptor`` (:func:`~samseg.adaptation.priors.adapt_with_priors`, each case
with its own reference).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from samseg.adaptation.overlays import PromptedSlice, write_overlay
from samseg.adaptation.settings import AdaptorSettings
from samseg.adaptation.slice_network import P2SAMSliceNetwork
from samseg.adaptation.volume import VolumeSettings
from samseg.errors import SamsegInputError
from samseg.inference import SlicePredictor
from samseg.inference.case_references import ReferenceFiles
from samseg.inference.folder_prediction import PredictionRun
from samseg.inference.prompted_prediction import PromptableModel
from samseg.io import reader_writer_for, write_json
from samseg.preprocessing import PreprocessedCase, preprocess_case


def preprocess_references(
    model: PromptableModel, references: Sequence[ReferenceFiles]
) -> list[PreprocessedCase]:
    """The reference pieces preprocessed with the model's plans, labels included.

    Raises:
        SamsegInputError: no reference, a channel count other than the dataset's, or a label
            that does not fit its image (each naming the file).
    """
    if not references:
        raise SamsegInputError("reference: expected at least one annotated reference, found none")
    channels = model.description.num_channels
    pieces = []
    for images, label in references:
        images = [Path(p) for p in images]
        if len(images) != model.description.num_channel_files:
            raise SamsegInputError(
                f"{images[0]}: expected {model.description.num_channel_files} channel file(s) "
                f"per reference like the dataset's cases, found {len(images)}"
            )
        reader = reader_writer_for(images[0])
        piece = preprocess_case(images, label, model.plans, reader)
        if piece.data.shape[0] != channels:
            raise SamsegInputError(
                f"{images[0]}: expected {channels} channel(s) like the dataset "
                f"({model.description.channel_names}), found {piece.data.shape[0]}"
            )
        pieces.append(piece)
    return pieces


def reference_classes(pieces: Sequence[PreprocessedCase], where: str) -> list[int]:
    """Label values (> 0) present in any reference piece.

    Raises:
        SamsegInputError: the references hold no foreground.
    """
    values = sorted({int(v) for piece in pieces for v in np.unique(piece.label) if v > 0})
    if not values:
        raise SamsegInputError(f"{where}: expected a reference label with an object, found none")
    return values


def adapt_to_folder(
    model: PromptableModel,
    references: Sequence[ReferenceFiles],
    cases: Mapping[str, Sequence[str | os.PathLike]],
    output_folder: str | os.PathLike,
    *,
    adaptor: AdaptorSettings | None = None,
    volume: VolumeSettings | None = None,
    save_prompts: bool = False,
    save_overlays: bool = False,
    device: torch.device | str = "cpu",
    show_progress: bool = True,
) -> PredictionRun:
    """Segment ``cases`` by example: P²SAM from the annotated ``references``.

    Args:
        model: one promptable network with its plans (``samseg.inference``'s loaders).
        references: annotated reference pieces (one scan, or pieces of one patient's scans;
            a photo and its mask), preprocessed with the model's plans.
        cases: identifier -> channel files of the targets (``samseg.inference.find_cases``).
        output_folder: where the segmentations go (created if missing).
        adaptor: P²SAM / PerSAM settings; volume: pooling, slab and presence settings.
        save_prompts: also write ``prompts/CASE.json`` per case (module docstring).
        save_overlays: also draw every prompted (slice, class) into ``prompts/overlays/``
            (``samseg.adaptation.overlays``).
        device: where the network runs.
        show_progress: progress bars.

    Raises:
        SamsegInputError: several networks (P²SAM adapts one), bad references (see
            :func:`preprocess_references`), or what the predictor refuses.
    """
    check_one_network(model)
    pieces = preprocess_references(model, references)
    recorded = [[[str(p) for p in images], str(label)] for images, label in references]
    return run_adaptor(
        model,
        reference_classes(pieces, str(references[0][1])),
        cases,
        output_folder,
        pieces=pieces,
        record={"references": recorded},
        adaptor=adaptor,
        volume=volume,
        save_prompts=save_prompts,
        save_overlays=save_overlays,
        device=device,
        show_progress=show_progress,
    )


def check_one_network(model: PromptableModel) -> None:
    """P²SAM adapts one network.

    Raises:
        SamsegInputError: naming the model and how many networks it holds.
    """
    if len(model.networks) != 1:
        raise SamsegInputError(
            f"{model.source}: expected one promptable network for P²SAM, found "
            f"{len(model.networks)} (give one fold)"
        )


def run_adaptor(
    model: PromptableModel,
    classes: Sequence[int],
    cases: Mapping[str, Sequence[str | os.PathLike]],
    output_folder: str | os.PathLike,
    *,
    pieces: Sequence[PreprocessedCase] | None = None,
    case_references: Mapping[str, ReferenceFiles] | None = None,
    record: Mapping[str, Any],
    adaptor: AdaptorSettings | None = None,
    volume: VolumeSettings | None = None,
    save_prompts: bool = False,
    save_overlays: bool = False,
    device: torch.device | str = "cpu",
    show_progress: bool = True,
    predictor_options: Mapping[str, Any] | None = None,
    folder_options: Mapping[str, Any] | None = None,
) -> PredictionRun:
    """The slice predictor with :class:`P2SAMSliceNetwork` over ``cases``: what
    :func:`adapt_to_folder` and :func:`~samseg.adaptation.priors.adapt_with_priors` run.

    Args:
        model: one promptable network with its plans.
        classes: label values to adapt.
        cases: identifier -> channel files of the targets.
        output_folder: where the segmentations go.
        pieces: preprocessed reference pieces used for every case; or
        case_references: identifier -> (channel files, label) of each case's own reference
            (preprocessed by the folder prediction and given to the network's case hook).
        record: what the run's settings record says of the references (beside
            ``"adaptor": "p2sam"`` and the adaptor's and volume settings).
        adaptor, volume, save_prompts, save_overlays, device, show_progress: see
            :func:`adapt_to_folder`.
        predictor_options: more keyword arguments of :class:`SlicePredictor` (batch size,
            largest component).
        folder_options: more keyword arguments of :meth:`SlicePredictor.predict_to_files`
            (parts, continuing, probabilities).

    Raises:
        ValueError: both or neither of ``pieces`` and ``case_references``.
    """
    if (pieces is None) == (case_references is None):
        raise ValueError("run_adaptor: expected either pieces or case_references")
    adaptor = adaptor or AdaptorSettings()
    volume = volume or VolumeSettings()
    network = P2SAMSliceNetwork(
        model.networks[0].to(device),
        model.plans.configuration(model.configuration),
        classes,
        model.plans.label_handling.num_classes,
        adaptor=adaptor,
        volume=volume,
        references=pieces,
        overlays=_overlay_writer(Path(output_folder)) if save_overlays else None,
    )
    source = {
        **model.source,
        "adaptor": "p2sam",
        **record,
        "adaptor_settings": repr(adaptor),
        "volume_settings": repr(volume),
    }
    predictor = SlicePredictor(
        [network],
        model.plans,
        model.configuration,
        model.description,
        device=device,
        use_mirroring=False,
        show_progress=show_progress,
        source=source,
        **(predictor_options or {}),
    )
    run = predictor.predict_to_files(
        cases, output_folder, references=case_references, **(folder_options or {})
    )
    if save_prompts:
        write_prompt_records(network.records, Path(output_folder) / "prompts", case_references)
    return run


def _overlay_writer(output_folder: Path) -> Callable[[PromptedSlice], None]:
    """A callback drawing each prompted (slice, class) into ``OUTPUT/prompts/overlays``."""
    folder = output_folder / "prompts" / "overlays"
    return lambda prompted: write_overlay(prompted, folder)


def write_prompt_records(
    records: Sequence[dict],
    folder: Path,
    case_references: Mapping[str, ReferenceFiles] | None = None,
) -> None:
    """``folder/CASE.json`` per case: its (slice, class) records (and, with
    ``case_references``, the case's reference files), written atomically."""
    by_case: dict[str, list[dict]] = {}
    for record in records:
        by_case.setdefault(record["case"], []).append(record)
    folder.mkdir(parents=True, exist_ok=True)
    for case, entries in by_case.items():
        content: dict[str, Any] = {"case": case}
        if case_references is not None:
            images, label = case_references[case]
            content["reference"] = {"images": [str(p) for p in images], "label": str(label)}
        write_json({**content, "slices": entries}, folder / f"{case}.json")
