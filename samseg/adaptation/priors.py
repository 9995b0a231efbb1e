"""P²SAM with each case's own prior scan: ``samseg_predict --adaptor p2sam``'s API.

The longitudinal use: every target case (a patient's follow-up) is segmented from that
patient's annotated prior scan. :func:`adapt_with_priors` wraps the promptable network in a
:class:`~samseg.adaptation.slice_network.P2SAMSliceNetwork` without fixed references and runs
the slice predictor with ``references`` (``samseg.inference.case_references``): each case's
reference is preprocessed with the model's plans, label included, and handed to the network's
case hook (the reference volume is built once per reference; consecutive cases sharing one
reference reuse it). The run's settings record says ``"adaptor": "p2sam"``, the adaptor and
volume settings and where the references are (every case's files, or what the caller says:
the command records its two folders); ``save_prompts`` writes
``OUTPUT/prompts/CASE.json`` as :func:`~samseg.adaptation.run.adapt_to_folder` does, with the
case's reference files.

Every case is adapted to the same classes (the network's output channels): by default every
foreground label of the plans. Each selected case's reference label is read before anything
is written and must hold every one of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from samseg.adaptation.run import check_one_network, run_adaptor
from samseg.adaptation.settings import AdaptorSettings
from samseg.adaptation.volume import VolumeSettings
from samseg.errors import SamsegInputError
from samseg.inference.case_references import ReferenceFiles, check_references
from samseg.inference.folder_prediction import PredictionRun
from samseg.inference.output_files import select_part
from samseg.inference.prompted_prediction import PromptableModel
from samseg.io import reader_writer_for


def adapt_with_priors(
    model: PromptableModel,
    cases: Mapping[str, Sequence[str | os.PathLike]],
    references: Mapping[str, ReferenceFiles],
    output_folder: str | os.PathLike,
    *,
    classes: Sequence[int] | None = None,
    adaptor: AdaptorSettings | None = None,
    volume: VolumeSettings | None = None,
    save_prompts: bool = False,
    save_overlays: bool = False,
    device: torch.device | str = "cpu",
    show_progress: bool = True,
    batch_size: int | None = None,
    largest_component: bool = False,
    save_probabilities: bool = False,
    continue_prediction: bool = False,
    num_parts: int = 1,
    part_id: int = 0,
    reference_record: Mapping[str, Any] | None = None,
) -> PredictionRun:
    """Segment every case by example from its own annotated reference (module docstring).

    Args:
        model: one promptable network with its plans (``samseg.inference``'s loaders).
        cases: identifier -> channel files of the targets (``samseg.inference.find_cases``).
        references: identifier -> (channel files, label file) of each case's reference, e.g.
            from ``samseg.inference.case_references.reference_files``; every case of this
            part needs one.
        output_folder: where the segmentations go (created if missing).
        classes: label values to adapt; default: every foreground label of the plans.
        adaptor: P²SAM / PerSAM settings; volume: pooling, slab and presence settings.
        save_prompts: also write ``prompts/CASE.json`` per predicted case.
        save_overlays: also draw every prompted (slice, class) into ``prompts/overlays/``.
        device: where the network runs.
        show_progress: progress bars.
        batch_size: slices per network call (``None``: the predictor's automatic choice).
        largest_component: keep only the largest connected component of each label.
        save_probabilities, continue_prediction, num_parts, part_id: as
            :meth:`SlicePredictor.predict_to_files`.
        reference_record: what the run's settings record says of the references (the
            command: their two folders, so that adding cases does not change the settings);
            default: ``case_references``, every case's files.

    Raises:
        SamsegInputError: several networks, region-based labels, a case of this part without
            reference or with a missing reference file, a reference label without every
            class to adapt (all before anything is written), or what the predictor refuses.
    """
    check_one_network(model)
    handling = model.plans.label_handling
    if handling.regions_class_order is not None:
        raise SamsegInputError(
            f"plans {model.plans.plans_name}: P²SAM adapts label values; expected labels "
            f"without regions, found the regions {handling.class_names[1:]}"
        )
    classes = list(range(1, handling.num_classes)) if classes is None else list(classes)
    selected = select_part(list(cases), num_parts, part_id)
    checked = check_references(references, selected, model.description.num_channel_files)
    for identifier, (_, label) in checked.items():
        check_reference_label(label, identifier, classes)
    if reference_record is None:
        files = {
            identifier: [[str(p) for p in images], str(label)]
            for identifier, (images, label) in sorted(references.items())
        }
        reference_record = {"case_references": files}
    return run_adaptor(
        model,
        classes,
        cases,
        output_folder,
        case_references=references,
        record={"references": "per case", **reference_record},
        adaptor=adaptor,
        volume=volume,
        save_prompts=save_prompts,
        save_overlays=save_overlays,
        device=device,
        show_progress=show_progress,
        predictor_options={"batch_size": batch_size, "largest_component": largest_component},
        folder_options={
            "save_probabilities": save_probabilities,
            "continue_prediction": continue_prediction,
            "num_parts": num_parts,
            "part_id": part_id,
        },
    )


def check_reference_label(
    label: str | os.PathLike, identifier: str, classes: Sequence[int]
) -> None:
    """The reference label of case ``identifier`` holds every class to adapt.

    Raises:
        SamsegInputError: naming the label file and its case: no object at all, or the
            classes it lacks.
    """
    values = {int(v) for v in np.unique(reader_writer_for(label).read_segmentation(label)[0])}
    if not values - {0}:
        raise SamsegInputError(
            f"{label}: expected the reference label of case {identifier} with an object, found none"
        )
    missing = sorted(set(classes) - values)
    if missing:
        raise SamsegInputError(
            f"{label}: expected the reference label of case {identifier} to hold every class "
            f"to adapt {list(classes)}, found no voxel of {missing}"
        )
