"""Prompted prediction: every class segmented with prompts simulated from a label per case.

What ``samseg_predict --prompts MODE --prompt_labels DIR`` runs (documentation/inference.md,
"Prompted prediction"). A promptable network comes from

- a trained model folder (:func:`load_promptable_model_folder`: any SamSegmenter checkpoint,
  ``promptable_sam`` interactive ones included, or a ProMISe one, decoded through each class's
  IPS tokens; several folds are averaged), or
- SAM weights not trained on the dataset (:func:`load_sam_for_prompts`: an official SAM /
  MedSAM / LiteMedSAM file, the packaged LiteMedSAM, or random weights for tests), built at a
  preprocessed dataset's configuration.

:class:`PromptedPredictor` wraps each network in a
:class:`~samseg.inference.prompted_network.PromptedNetwork` and runs the ordinary
:class:`~samseg.inference.slice_predictor.SlicePredictor` (same geometry, streaming slice
groups, progress bar, output files); each case's prompt label ``DIR/CASE<file_ending>`` is
preprocessed with its image (``samseg.inference.prompt_labels``). Test-time mirroring is off
(the prompts are simulated per view). The prompt mode, its settings and the label folder are
recorded in ``prediction_settings.json``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samseg.dataset import DatasetDescription
from samseg.errors import SamsegInputError
from samseg.inference.defaults import DEFAULT_CHECKPOINT, PACKAGED_WEIGHTS
from samseg.inference.folder_prediction import PredictionRun
from samseg.inference.model_loading import load_model_networks
from samseg.inference.prompt_labels import prompt_label_files
from samseg.inference.prompted_network import PromptedNetwork
from samseg.inference.slice_predictor import PredictedCase, SlicePredictor
from samseg.models import build_sam
from samseg.models.pretrained_weights import resolve_sam_checkpoint
from samseg.models.promptable import PromptableNetwork
from samseg.paths import preprocessed_dataset_json
from samseg.plans import Plans
from samseg.plans_lookup import preprocessed_plans_file
from samseg.prompting import PromptingSettings, PromptMode


@dataclass(frozen=True)
class PromptableModel:
    """Promptable networks and what they run in.

    Attributes:
        networks: promptable networks (one per fold), on the CPU in eval mode.
        plans: the plans their inputs are preprocessed with.
        configuration: the plans configuration name (``2d_256``).
        description: the dataset.json (labels, file ending, reader).
        source: JSON-able record of where the networks come from.
    """

    networks: tuple[PromptableNetwork, ...]
    plans: Plans
    configuration: str
    description: DatasetDescription
    source: dict[str, Any]


def load_promptable_model_folder(
    folder: str | os.PathLike,
    folds: Sequence[int | str] | None = None,
    checkpoint_name: str = DEFAULT_CHECKPOINT,
) -> PromptableModel:
    """The networks of a trained model folder's folds, for prompting.

    Raises:
        SamsegInputError: a missing folder, fold or checkpoint, an unreadable checkpoint, a
            network that is not promptable or whose input size is not the configuration's
            (each naming the file).
    """
    loaded = load_model_networks(folder, folds, checkpoint_name, prompted=True)
    model = loaded.model
    return PromptableModel(
        tuple(loaded.networks), model.plans, model.configuration, model.description, loaded.source
    )


def load_sam_for_prompts(
    dataset: str | int,
    configuration: str,
    plans_name: str = "samsegPlans",
    *,
    sam_checkpoint: str | os.PathLike = PACKAGED_WEIGHTS,
    model_type: str | None = None,
) -> PromptableModel:
    """SAM weights built at a preprocessed dataset's configuration, for prompting.

    Args:
        dataset: ``-d`` (id, ``DatasetXXX_Name`` or name) under the preprocessed root.
        configuration: the plans configuration; the network is built at its input size.
        plans_name: the plans file's name.
        sam_checkpoint: a weights file (official SAM, MedSAM, LiteMedSAM, or a samseg
            checkpoint), :data:`PACKAGED_WEIGHTS` or ``none`` (random weights, for tests).
        model_type: the backbone (``vit_b``, ``litemedsam`` ...); ``None``: the
            configuration's.

    Raises:
        SamsegInputError: an unknown dataset, plans or configuration, or weights that do not
            fit the model type or input size.
        SamsegConfigError: a weights file that does not exist, or no packaged weights of the
            model type installed (the message says where to get them).
    """
    path = preprocessed_plans_file(dataset, plans_name)
    plans = Plans.load(path)
    settings = plans.configuration(configuration)
    model_type = model_type or settings.model_type
    weights = _weights_file(sam_checkpoint, model_type)
    network = build_sam(
        model_type, settings.input_size, weights, num_classes=plans.label_handling.num_classes
    )
    description = DatasetDescription.load(preprocessed_dataset_json(path.parent))
    source = {
        "sam_checkpoint": None if weights is None else str(weights),
        "model_type": model_type,
        "plans": str(path),
    }
    return PromptableModel((network,), plans, configuration, description, source)


def _weights_file(choice: str | os.PathLike, model_type: str) -> Path | None:
    """The weights file ``--sam_checkpoint`` names (``None``: random weights); without a path
    (:data:`PACKAGED_WEIGHTS`) the model type's official file, found as training finds it."""
    packaged = str(choice).strip() == PACKAGED_WEIGHTS
    return resolve_sam_checkpoint(None if packaged else choice, model_type)


class PromptedPredictor:
    """A slice predictor whose networks are prompted from each case's prompt label."""

    def __init__(
        self,
        model: PromptableModel,
        mode: PromptMode,
        prompt_labels: str | os.PathLike,
        *,
        settings: PromptingSettings | None = None,
        **predictor_options: Any,
    ) -> None:
        """
        Args:
            model: the promptable networks, plans and dataset.json.
            mode: ``box``, ``point``, ``points:N`` or ``clicks:N``.
            prompt_labels: the folder of prompt labels, ``CASE<file_ending>`` per case.
            settings: how prompts are fed (seed of ``points:N`` ...); default
                ``PromptingSettings()``.
            **predictor_options: keyword arguments of :class:`SlicePredictor` (device,
                precision, batch_size, step_size, show_progress, largest_component) but
                ``use_mirroring`` / ``mirror_axes`` (always off) and ``source``.

        Raises:
            SamsegInputError: region-based labels (prompts are simulated per label value), or
                what :class:`SlicePredictor` raises (a network whose input size does not fit).
        """
        refused = sorted({"use_mirroring", "mirror_axes", "source"} & set(predictor_options))
        if refused:
            raise TypeError(f"PromptedPredictor sets {', '.join(refused)} itself")
        handling = model.plans.label_handling
        if handling.regions_class_order is not None:
            raise SamsegInputError(
                f"plans {model.plans.plans_name}: prompted prediction prompts each label value; "
                f"expected labels without regions, found the regions {handling.class_names[1:]}"
            )
        self.settings = settings or PromptingSettings()
        self.mode = mode
        self.prompt_labels = Path(prompt_labels)
        self.networks = [
            PromptedNetwork(network, handling.num_classes, mode, self.settings)
            for network in model.networks
        ]
        source = {
            **model.source,
            "prompts": str(mode),
            "prompt_labels": str(self.prompt_labels.resolve()),
            "prompting": dataclasses.asdict(self.settings),
        }
        self.predictor = SlicePredictor(
            self.networks,
            model.plans,
            model.configuration,
            model.description,
            use_mirroring=False,
            source=source,
            **predictor_options,
        )

    @property
    def description(self) -> DatasetDescription:
        """The dataset.json of the labels, file ending and reader."""
        return self.predictor.description

    @property
    def settings_record(self) -> dict[str, Any]:
        """What ``prediction_settings.json`` records (the predictor's settings)."""
        return self.predictor.settings

    def predict_case(
        self, image_paths: Sequence[str | os.PathLike], identifier: str, **options: Any
    ) -> PredictedCase:
        """Predict one case with the prompts of ``prompt_labels/identifier<file_ending>``.

        Args:
            image_paths: one file per channel.
            identifier: the case identifier, which names its prompt label.
            **options: keyword arguments of :meth:`SlicePredictor.predict_case`.

        Raises:
            SamsegInputError: no prompt label of the case, or one that does not fit the image
                (another grid, label values the plans do not know), naming the file.
        """
        [label] = prompt_label_files(
            self.prompt_labels, [identifier], self.description.file_ending
        ).values()
        return self.predictor.predict_case(
            image_paths, identifier=identifier, prompt_label=label, **options
        )

    def predict_to_files(
        self,
        cases: Mapping[str, Sequence[str | os.PathLike]],
        output_folder: str | os.PathLike,
        **options: Any,
    ) -> PredictionRun:
        """Predict ``cases`` into ``output_folder`` as :meth:`SlicePredictor.predict_to_files`
        does, each with its prompt label.

        Raises:
            SamsegInputError: a case without prompt label (before anything is written), a
                prompt label that does not fit its image (that case and those after it are
                not written), or what :meth:`SlicePredictor.predict_to_files` raises.
        """
        labels = prompt_label_files(self.prompt_labels, list(cases), self.description.file_ending)
        return self.predictor.predict_to_files(
            cases, output_folder, prompt_labels=labels, **options
        )
