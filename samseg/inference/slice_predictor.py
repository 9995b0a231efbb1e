"""SlicePredictor: whole volumes segmented slice by slice, written in their raw geometry.

For each case: :func:`~samseg.preprocessing.preprocess_case` (as in training, no label),
then groups of slices stream through the networks
(:class:`~samseg.inference.ensemble.SliceEnsemble`: SAM inputs with context neighbours,
resized or cut into windows, optionally mirrored along the axes training flipped, every
network of the ensemble, averaged probabilities), and each group is resampled in-plane to the
raw crop and labelled at once (:class:`~samseg.inference.export.SegmentationExporter`).
See documentation/inference.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from samseg.dataset import DatasetDescription
from samseg.errors import SamsegInputError
from samseg.inference.case_context import CaseContext
from samseg.inference.case_references import ReferenceFiles
from samseg.inference.ensemble import SliceEnsemble
from samseg.inference.export import SegmentationExporter
from samseg.inference.folder_prediction import PredictionRun, predict_to_folder
from samseg.inference.inputs import case_identifier
from samseg.inference.model_loading import (
    DEFAULT_CHECKPOINT,
    check_fits_plans,
    load_model_networks,
)
from samseg.inference.network import SliceNetwork, evaluation_mode, unwrapped
from samseg.inference.postprocessing import keep_largest_component_per_label
from samseg.inference.precision import prepare_networks
from samseg.inference.prompt_labels import preprocess_with_prompt_label
from samseg.inference.tiling import PlaneTiling
from samseg.io import ImageGeometry, ImageReaderWriter, reader_writer_for
from samseg.models.checkpoint_format import MIRROR_AXES
from samseg.plans import Plans
from samseg.preprocessing import CaseProperties, PreprocessedCase, preprocess_case
from samseg.preprocessing.orientation import warn_if_orientation_unknown
from samseg.preprocessing.storage import StoredCase

CPU_PIXELS_PER_BATCH = 512 * 512
"""Automatic CPU batch: this many input pixels per call, (512 / S)^2 images (at least one).
On the CPU larger batches of SAM's encoder are no faster per image (measured: batch 4 at 512
is about 5% slower than batch 1) and cost memory."""


@dataclass(frozen=True)
class PredictedCase:
    """The prediction of one case in its raw geometry.

    Attributes:
        segmentation: (z, y, x) label values, uint8 (int16 beyond 255), the raw image's shape.
        geometry: the raw image's spacing, origin and direction.
        probabilities: (C, z, y, x) float32 class probabilities (region probabilities for
            region-based labels), or ``None`` when not asked for.
        properties: how the case was preprocessed (crop box, shapes, transpose).
    """

    segmentation: np.ndarray
    geometry: ImageGeometry
    probabilities: np.ndarray | None
    properties: CaseProperties


class SlicePredictor:
    """Predicts cases with an ensemble of slice networks (see the module docstring)."""

    def __init__(
        self,
        networks: Sequence[Any],
        plans: Plans,
        configuration: str,
        description: DatasetDescription,
        *,
        device: torch.device | str = "cpu",
        use_mirroring: bool = True,
        mirror_axes: Sequence[int] = MIRROR_AXES,
        step_size: float | None = None,
        batch_size: int | None = None,
        precision: str = "fp32",
        show_progress: bool = True,
        largest_component: bool = False,
        source: Mapping[str, Any] | None = None,
    ) -> None:
        """
        Args:
            networks: SamSegmenters or other slice networks (see ``samseg.inference.network``),
                trained ones or not (SAM weights plus an adaptor); their probabilities are
                averaged. Modules are moved to ``device``; their train/eval flags are restored
                after each prediction. Hooks: ``samseg.inference.case_context``.
            plans: the plans the networks' inputs are preprocessed with.
            configuration: name of the plans configuration (``2d_512``).
            description: the dataset.json of their labels, file ending and reader.
            device: where the networks run (``cpu``, ``cuda``, ``mps``).
            use_mirroring: average over in-plane flips along ``mirror_axes``; ``False``: none
                (``--disable_tta``).
            mirror_axes: in-plane axes (0: rows, 1: columns) the networks may be mirrored
                along, those training flipped: (0, 1) 4 passes per input, one axis 2.
            step_size: sliding-window step as a fraction of the input size; ``None``: the
                configuration's ``sliding_window_step``.
            batch_size: network inputs per call; ``None``: the configuration's batch size on
                a GPU, at most (512 / S)^2 (at least 1) on the CPU.
            precision: ``fp32``, ``bf16`` or ``int8`` (see ``samseg.inference.precision``).
            show_progress: a progress bar per case.
            largest_component: keep only the largest connected component of each label.
            source: JSON-able description of where the networks come from, recorded in
                ``prediction_settings.json``; ``None``: the networks' class names.

        Raises:
            SamsegInputError: an unknown configuration or precision, no networks, networks
                whose input size or class count do not fit the plans, or mirroring axes
                outside (0, 1).
        """
        warn_if_orientation_unknown(plans)
        self.plans = plans
        self.configuration_name = configuration
        self.configuration = plans.configuration(configuration)
        self.description = description
        self.device = torch.device(device)
        self.use_mirroring = use_mirroring
        if not set(mirror_axes) <= set(MIRROR_AXES):
            raise SamsegInputError(
                f"mirror_axes: expected in-plane axes of {list(MIRROR_AXES)}, found "
                f"{list(mirror_axes)}"
            )
        self.mirror_axes = tuple(sorted(set(mirror_axes))) if use_mirroring else ()
        """The axes this predictor mirrors along (none with ``use_mirroring=False``)."""
        self.step_size = self.configuration.sliding_window_step if step_size is None else step_size
        if not 0 < self.step_size <= 1:
            raise SamsegInputError(f"step_size: expected 0 < step <= 1, found {self.step_size}")
        if not networks:
            raise SamsegInputError("networks: expected at least one network, found none")
        self.precision = precision
        self.networks: list[SliceNetwork] = prepare_networks(networks, precision, self.device)
        self.input_size = self._check_networks()
        self.batch_size = self._batch_size(batch_size)
        self.ensemble = SliceEnsemble(
            self.networks,
            num_classes=plans.label_handling.num_classes,
            regions=plans.label_handling.regions_class_order is not None,
            mirror_axes=self.mirror_axes,
            batch_size=self.batch_size,
            context_slices=self.configuration.context_slices,
            device=self.device,
        )
        self.show_progress = show_progress
        self.largest_component = largest_component
        if source is None:
            source = {"networks": [type(unwrapped(n)).__name__ for n in self.networks]}
        self.source = dict(source)

    @classmethod
    def from_model_folder(
        cls,
        folder: str | os.PathLike,
        folds: Sequence[int | str] | None = None,
        checkpoint_name: str = DEFAULT_CHECKPOINT,
        **kwargs: Any,
    ) -> SlicePredictor:
        """A predictor for a trained model folder, one network per fold (an ensemble).

        The networks are rebuilt from their checkpoints' network descriptions (any network
        kind, ``samseg.models.network_kinds``); prediction mirrors only along the axes every
        checkpoint allows (``inference_allowed_mirroring_axes``; both when not recorded).

        Args:
            folder: ``RESULTS/DatasetXXX_Name/{Trainer}__{Plans}__{configuration}``.
            folds: folds to use (``[0]``, ``[0, 1, 2, 3, 4]``, ``["all"]``); ``None``: every
                fold folder holding ``checkpoint_name``.
            checkpoint_name: ``checkpoint_final.pth``, ``checkpoint_best.pth``, ...
            **kwargs: keyword arguments of the constructor (device, precision, ...) but
                ``mirror_axes``, which the checkpoints decide.

        Raises:
            SamsegInputError: a missing folder, plans, dataset.json, fold or checkpoint, a
                checkpoint that is not a samseg checkpoint, or one trained for prompts only
                (kind ``promptable_sam``: predict it with ``samseg.inference.
                prompted_prediction``); each message names the file.
        """
        loaded = load_model_networks(folder, folds, checkpoint_name)
        model = loaded.model
        return cls(
            loaded.networks,
            model.plans,
            model.configuration,
            model.description,
            source=loaded.source,
            mirror_axes=loaded.mirror_axes,
            **kwargs,
        )

    @property
    def settings(self) -> dict[str, Any]:
        """JSON-able record of how this predictor predicts."""
        return {
            **self.source,
            "configuration": self.configuration_name,
            "num_networks": len(self.networks),
            "device": str(self.device),
            "precision": self.precision,
            "use_mirroring": self.use_mirroring,
            "mirror_axes": list(self.mirror_axes),
            "step_size": self.step_size,
            "batch_size": self.batch_size,
            "largest_component": self.largest_component,
        }

    def predict_case(
        self,
        image_paths: Sequence[str | os.PathLike],
        *,
        return_probabilities: bool = False,
        reader_writer: ImageReaderWriter | None = None,
        name: str | None = None,
        identifier: str | None = None,
        reference: PreprocessedCase | StoredCase | None = None,
        prompt_label: str | os.PathLike | None = None,
    ) -> PredictedCase:
        """Preprocess and predict one case from its channel files (or DICOM series folder).

        Args:
            image_paths: one file per channel, in channel order.
            return_probabilities: also return (C, z, y, x) probabilities (memory!).
            reader_writer: reader for the files; default: the dataset's for files with its
                file ending, else chosen by the path.
            name: shown on the progress bar.
            identifier: the case identifier the networks' ``begin_case`` hook gets; default:
                the first file's name without its ending and channel suffix.
            reference: an annotated case preprocessed with the same plans, for networks
                that segment by example (given to ``begin_case``).
            prompt_label: a label file of this case that prompted networks simulate their
                prompts from (``samseg.inference.prompted_network``): preprocessed with the
                image as a training case is, so the case given to ``begin_case`` carries it
                as its ``label`` (see ``samseg.inference.prompt_labels``).

        Raises:
            SamsegInputError: unreadable or inconsistent images (naming the file), a
                reference without label, or a prompt label whose grid or values do not fit
                (naming the label file).
        """
        image_paths = [Path(p) for p in image_paths]
        reader = reader_writer or self.reader_for(image_paths[0])
        if prompt_label is None:
            case = preprocess_case(image_paths, None, self.plans, reader)
        else:
            case = preprocess_with_prompt_label(image_paths, Path(prompt_label), self.plans, reader)
        return self.predict_preprocessed(
            case,
            return_probabilities=return_probabilities,
            name=name or image_paths[0].name,
            identifier=identifier or case_identifier(image_paths[0], self.description),
            reference=reference,
        )

    def predict_preprocessed(
        self,
        case: PreprocessedCase | StoredCase,
        *,
        return_probabilities: bool = False,
        name: str = "case",
        identifier: str | None = None,
        reference: PreprocessedCase | StoredCase | None = None,
    ) -> PredictedCase:
        """Predict a case already preprocessed with these plans (in memory or stored).

        Args:
            case: ``data`` (c, slices, R, C) 0-255 (numpy or blosc2) and ``properties``.
            return_probabilities: also return (C, z, y, x) probabilities.
            name: shown on the progress bar.
            identifier: the case identifier for the ``begin_case`` hook; default: ``name``.
            reference: an annotated case for the ``begin_case`` hook (see
                :meth:`predict_case`).

        Raises:
            SamsegInputError: a reference without label or with another channel count.
        """
        context = CaseContext(identifier or name, case, reference)
        num_slices, rows, columns = (int(n) for n in case.data.shape[1:])
        tiling = PlaneTiling.for_configuration((rows, columns), self.configuration, self.step_size)
        exporter = SegmentationExporter(
            case.properties,
            self.plans.label_handling,
            self.plans.label_handling.num_classes,
            keep_probabilities=return_probabilities,
        )
        group = max(1, self.batch_size // tiling.tiles_per_slice)
        progress = tqdm(
            total=num_slices, desc=name, unit="slice", disable=not self.show_progress, leave=False
        )
        with progress, torch.inference_mode(), evaluation_mode(self.networks):
            self.ensemble.begin_case(context)
            for start in range(0, num_slices, group):
                centers = list(range(start, min(start + group, num_slices)))
                probabilities = self.ensemble.probabilities(case.data, centers, tiling)
                exporter.add(start, probabilities.float().cpu().numpy())
                progress.update(len(centers))
        segmentation = exporter.segmentation()
        if self.largest_component:
            segmentation = keep_largest_component_per_label(segmentation)
        return PredictedCase(
            segmentation=segmentation,
            geometry=case.properties.geometry,
            probabilities=exporter.probabilities() if return_probabilities else None,
            properties=case.properties,
        )

    def predict_to_files(
        self,
        cases: Mapping[str, Sequence[str | os.PathLike]],
        output_folder: str | os.PathLike,
        *,
        save_probabilities: bool = False,
        continue_prediction: bool = False,
        num_parts: int = 1,
        part_id: int = 0,
        prompt_labels: Mapping[str, str | os.PathLike] | None = None,
        references: Mapping[str, ReferenceFiles] | None = None,
    ) -> PredictionRun:
        """Predict ``cases`` (identifier -> channel files) into ``output_folder``.

        Writes ``CASE<file_ending>`` per case (atomically, with the input's geometry), with
        ``save_probabilities`` also ``CASE.npz`` and ``CASE.json``, and the run record
        (plans.json, dataset.json, prediction_settings.json) when the first case is predicted;
        see ``samseg.inference.output_files`` and ``samseg.inference.run_record``. A run that
        fails before its first case removes the output folder again if it created it.

        Args:
            cases: identifier -> image paths, e.g. from ``samseg.inference.find_cases``.
            output_folder: created if missing.
            save_probabilities: also write the probabilities.
            continue_prediction: skip cases whose outputs already exist.
            num_parts, part_id: predict only every num_parts-th case from part_id on (sorted
                identifiers), to split a run over processes or machines.
            prompt_labels: identifier -> prompt label file of every case, for prompted
                networks (see :meth:`predict_case`); checked to exist and never overwritten.
            references: identifier -> (channel files, label file) of every case's own
                annotated reference (a prior scan), for networks that segment by example:
                checked to exist before anything is written, never overwritten,
                preprocessed with these plans (label included) and given to
                :meth:`predict_case` (``samseg.inference.case_references``).

        Returns:
            The segmentation files of this part's cases (sorted by identifier) and which
            cases were predicted and which skipped.

        Raises:
            SamsegInputError: an output that would replace an input, an output folder that
                cannot be written or holds segmentations made with other settings, a missing
                or unreadable input (naming the file), a case without its reference, or
                invalid parts.
        """
        return predict_to_folder(
            self,
            cases,
            Path(output_folder),
            save_probabilities=save_probabilities,
            continue_prediction=continue_prediction,
            num_parts=num_parts,
            part_id=part_id,
            prompt_labels=prompt_labels,
            references=references,
        )

    def _check_networks(self) -> int:
        """The networks' common input size, checked against the plans."""
        for index, network in enumerate(self.networks):
            check_fits_plans(network, self.plans, self.configuration_name, f"networks[{index}]")
        return self.configuration.input_size

    def _batch_size(self, requested: int | None) -> int:
        """``requested``, or the automatic batch size (see the constructor)."""
        if requested is not None:
            if requested < 1:
                raise SamsegInputError(f"batch_size: expected >= 1, found {requested}")
            return requested
        if self.device.type != "cpu":
            return self.configuration.batch_size
        cpu_limit = CPU_PIXELS_PER_BATCH // self.input_size**2
        return max(1, min(self.configuration.batch_size, cpu_limit))

    def reader_for(self, path: Path) -> ImageReaderWriter:
        """The reader for an input file: the dataset's for files with its ending, else the
        reader for ``path`` (DICOM folders, other image files)."""
        if path.is_file() and path.name.endswith(self.description.file_ending):
            return self.description.image_reader_writer()
        return reader_writer_for(path)
