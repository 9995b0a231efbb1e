"""The promptable network a click evaluation prompts, with the plans it runs in.

Two sources, as ``samseg_predict --prompts`` has them:

- a trained model folder (``-m``, or ``-d -tr -c [-p]``) and one fold: the fold's checkpoint
  rebuilt from its network description (LoRA merged), with the folder's plans and dataset.json;
- SAM weights not trained on the dataset (``--sam_checkpoint PATH --model_type T`` with
  ``-d -c [-p]``, e.g. the packaged LiteMedSAM): built at the configuration's input size, with
  the preprocessed dataset's plans and dataset.json.

Any SamSegmenter is promptable; another network kind is an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from samseg.dataset import DatasetDescription, resolve_dataset_name
from samseg.errors import SamsegInputError
from samseg.inference.defaults import DEFAULT_CHECKPOINT
from samseg.inference.model_loading import load_model_networks
from samseg.models import build_sam
from samseg.paths import preprocessed_dataset_json, preprocessed_root
from samseg.plans import Plans
from samseg.training.pretrained import resolve_sam_checkpoint


@dataclass(frozen=True)
class PromptableModel:
    """A promptable network and what it runs in.

    Attributes:
        network: the network (a SamSegmenter), on the CPU in eval mode.
        plans: the plans its inputs are preprocessed with.
        configuration: the plans configuration name (``2d_256``).
        description: the dataset.json (labels, file ending, reader).
        source: JSON-able record of where the network comes from.
    """

    network: Any
    plans: Plans
    configuration: str
    description: DatasetDescription
    source: dict[str, Any]


def model_from_folder(
    folder: str | os.PathLike, fold: int | str, checkpoint_name: str = DEFAULT_CHECKPOINT
) -> PromptableModel:
    """The network of one fold of a trained model folder.

    Raises:
        SamsegInputError: a missing folder, fold or checkpoint, an unreadable checkpoint, a
            network that is not a SamSegmenter or whose input size is not the configuration's
            (each naming the file); see ``samseg.inference.model_loading.load_model_networks``.
    """
    loaded = load_model_networks(folder, [fold], checkpoint_name, prompted=True)
    model = loaded.model
    [network] = loaded.networks
    return PromptableModel(
        network, model.plans, model.configuration, model.description, loaded.source
    )


def model_from_sam_checkpoint(
    checkpoint: str | os.PathLike,
    model_type: str | None,
    dataset: str | int,
    configuration: str,
    plans_name: str,
) -> PromptableModel:
    """SAM weights at a preprocessed dataset's configuration.

    Args:
        checkpoint: an official SAM / MedSAM / LiteMedSAM file, a samseg checkpoint, or
            ``"none"`` for random weights (tests).
        model_type: the backbone; ``None``: the configuration's.
        dataset: ``-d`` (id, ``DatasetXXX_Name`` or name) under the preprocessed root.
        configuration: the plans configuration.
        plans_name: the plans file's name (``samsegPlans``).

    Raises:
        SamsegInputError: an unknown dataset, plans or configuration, or weights that do not
            fit the model type.
        SamsegConfigError: no such checkpoint file.
    """
    root = preprocessed_root()
    name = resolve_dataset_name(dataset, [root])
    path = root / name / f"{plans_name}.json"
    if not path.is_file():
        found = sorted(p.stem for p in (root / name).glob("*Plans*.json"))
        raise SamsegInputError(
            f"{path}: expected the plans {plans_name} (found {found or 'none'}); run "
            f"samseg_plan_and_preprocess -d {name} (with -pl for other plans)"
        )
    plans = Plans.load(path)
    settings = plans.configuration(configuration)
    model_type = model_type or settings.model_type
    weights = resolve_sam_checkpoint(checkpoint, model_type)
    network = build_sam(
        model_type,
        settings.input_size,
        weights,
        num_classes=plans.label_handling.num_classes,
    )
    description = DatasetDescription.load(preprocessed_dataset_json(root / name))
    source = {
        "sam_checkpoint": None if weights is None else str(weights),
        "model_type": model_type,
    }
    return PromptableModel(network, plans, configuration, description, source)
