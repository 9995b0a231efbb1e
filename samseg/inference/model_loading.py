"""Trained models on disk: checkpoints, and the model folder's plans and dataset.json.

A model folder ``RESULTS/DatasetXXX_Name/{Trainer}__{Plans}__{configuration}/`` holds
``plans.json``, ``dataset.json`` and ``fold_{f}/checkpoint_{final,best,latest}.pth``
(f = 0..4 or ``all``). A checkpoint is a samseg checkpoint
(``samseg.models.checkpoint_format``, read with ``torch.load(weights_only=True)``); the
predictor needs its network description (kind and options: the builder registry
``samseg.models.network_kinds`` rebuilds the network), its weights and the mirroring axes
training allowed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from samseg.dataset import DatasetDescription
from samseg.errors import SamsegInputError
from samseg.inference import run_record
from samseg.inference.defaults import DEFAULT_CHECKPOINT
from samseg.models import has_lora, merge_lora
from samseg.models.checkpoint_format import (
    MIRROR_AXES,
    PROMPTABLE_SAM_KIND,
    WEIGHTS_KEY,
    SamsegCheckpoint,
    read_samseg_checkpoint,
)
from samseg.models.network_kinds import build_network
from samseg.models.promptable import PromptableNetwork
from samseg.plans import Plans

DEFAULT_FOLDS = (0, 1, 2, 3, 4)
"""Folds ensembled when none are named (those present), as nnU-Net's default ``-f``."""


@dataclass(frozen=True)
class ModelFolder:
    """A trained model's folder and what prediction needs from it.

    Attributes:
        folder: the model folder.
        plans: its ``plans.json``.
        description: its ``dataset.json``.
        configuration: the configuration name, the last ``__`` part of the folder name.
    """

    folder: Path
    plans: Plans
    description: DatasetDescription
    configuration: str

    @classmethod
    def open(cls, folder: str | os.PathLike) -> ModelFolder:
        """Read the plans and dataset.json of ``folder`` and check its name's configuration.

        Raises:
            SamsegInputError: no such folder, a missing or invalid plans.json / dataset.json,
                or a folder name whose configuration the plans do not have.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise SamsegInputError(
                f"{folder}: expected a model folder ({{Trainer}}__{{Plans}}__{{configuration}} "
                f"holding plans.json, dataset.json and fold_X/), found no such folder"
                + _siblings(folder)
            )
        for name in ("plans.json", "dataset.json"):
            if not (folder / name).is_file():
                raise SamsegInputError(
                    f"{folder / name}: expected the {name} the model was trained with, found no "
                    f"such file; the folder holds {_listing(folder)}"
                )
        plans = Plans.load(folder / "plans.json")
        parts = folder.name.split("__")
        configuration = parts[-1]
        if len(parts) != 3 or configuration not in plans.configurations:
            raise SamsegInputError(
                f"{folder}: expected a folder named {{Trainer}}__{{Plans}}__{{configuration}} "
                f"with a configuration of its plans.json {sorted(plans.configurations)}, "
                f"found the name {folder.name!r}"
            )
        description = DatasetDescription.load(folder / "dataset.json")
        return cls(folder, plans, description, configuration)

    def default_folds(self, checkpoint_name: str = DEFAULT_CHECKPOINT) -> list[str]:
        """The folds predicted without ``-f``: those of 0-4 that hold ``checkpoint_name``
        (nnU-Net's five-fold ensemble), else ``all`` when only it does.

        ``fold_all`` is trained on every case, so ensembling it with the cross-validation
        folds would weight the same data twice; it is used only when named or alone.

        Raises:
            SamsegInputError: no fold 0-4 and no ``fold_all`` holds ``checkpoint_name``.
        """
        present = [
            str(fold)
            for fold in (*DEFAULT_FOLDS, "all")
            if (self.folder / f"fold_{fold}" / checkpoint_name).is_file()
        ]
        numbered = [fold for fold in present if fold != "all"]
        if numbered:
            return numbered
        if present:
            return present
        raise SamsegInputError(
            f"{self.folder}: expected fold_X/{checkpoint_name} for a fold X of 0-4 or all, "
            f"found none; the folder holds {_listing(self.folder)} (name other folds with -f)"
        )

    def checkpoints(
        self, folds: Sequence[int | str] | None, checkpoint_name: str = DEFAULT_CHECKPOINT
    ) -> list[Path]:
        """The checkpoint file of each fold; ``None``: :meth:`default_folds`.

        Raises:
            SamsegInputError: a fold named twice, a fold folder or checkpoint that does not
                exist (the message lists what the folder holds), or no fold at all.
        """
        if folds is None:
            folds = self.default_folds(checkpoint_name)
        named = [str(fold) for fold in folds]
        repeated = sorted({fold for fold in named if named.count(fold) > 1})
        if repeated:
            raise SamsegInputError(
                f"-f {' '.join(named)}: expected each fold once, found fold "
                f"{', '.join(repeated)} more than once"
            )
        paths = []
        for fold in folds:
            fold_folder = self.folder / f"fold_{fold}"
            if not fold_folder.is_dir():
                raise SamsegInputError(
                    f"{fold_folder}: expected the folder of fold {fold}, found no such folder; "
                    f"{self.folder} holds {_listing(self.folder)}"
                )
            path = fold_folder / checkpoint_name
            if not path.is_file():
                raise SamsegInputError(
                    f"{path}: expected checkpoint {checkpoint_name} of fold {fold}, found no "
                    f"such file; {fold_folder} holds {_listing(fold_folder)}"
                )
            paths.append(path)
        return paths


def read_trained_checkpoint(checkpoint_path: str | os.PathLike) -> SamsegCheckpoint:
    """Read a trained model's checkpoint (any format version), weights only, on the CPU.

    Raises:
        SamsegInputError: a missing file (the message lists its folder), a file torch cannot
            read, or content that is not a samseg checkpoint.
    """
    path = Path(checkpoint_path)
    if not path.is_file():
        raise SamsegInputError(
            f"{path}: expected a checkpoint file, found no such file; "
            + (
                f"{path.parent} holds {_listing(path.parent)}"
                if path.parent.is_dir()
                else f"{path.parent} does not exist either"
            )
        )
    return read_samseg_checkpoint(path)


def network_from_checkpoint(checkpoint: SamsegCheckpoint) -> nn.Module:
    """Build the checkpoint's network kind and load its weights; in eval mode on the CPU.

    Raises:
        SamsegInputError: an unknown network kind, bad options, or weights that do not fit.
    """
    network = build_network(checkpoint.network, str(checkpoint.path))
    try:
        network.load_state_dict(checkpoint.weights)
    except (RuntimeError, TypeError, AttributeError) as error:
        first_lines = " ".join(str(error).split())[:600]
        raise SamsegInputError(
            f"{checkpoint.path}: expected {WEIGHTS_KEY!r} to fit the network "
            f"{checkpoint.network.to_json()}, found: {first_lines}"
        ) from None
    return network.eval()


def load_trained_network(checkpoint_path: str | os.PathLike) -> nn.Module:
    """Rebuild the network a samseg checkpoint was saved from, in eval mode on the CPU.

    Reads the checkpoint's network description (``"network"``: kind and options; a version 1
    file's ``NetworkSpec`` JSON) and ``"network_weights"`` (possibly with peft LoRA entries).

    Raises:
        SamsegInputError: a missing file (the message lists its folder), a file torch cannot
            read, or content that is not a samseg checkpoint or does not fit its architecture.
    """
    return network_from_checkpoint(read_trained_checkpoint(checkpoint_path))


@dataclass(frozen=True)
class LoadedModel:
    """The networks of a model folder's folds, ready to predict.

    Attributes:
        model: the model folder (plans, dataset.json, configuration).
        networks: one network per fold, LoRA merged, in eval mode on the CPU.
        mirror_axes: the in-plane axes every checkpoint allows mirroring along.
        source: JSON-able provenance for ``prediction_settings.json`` (model folder,
            checkpoints with their size and modification time).
    """

    model: ModelFolder
    networks: list[nn.Module]
    mirror_axes: tuple[int, ...]
    source: dict[str, Any]


def load_model_networks(
    folder: str | os.PathLike,
    folds: Sequence[int | str] | None,
    checkpoint_name: str = DEFAULT_CHECKPOINT,
    *,
    prompted: bool = False,
) -> LoadedModel:
    """Rebuild the network of each fold's checkpoint and check it against the plans.

    Args:
        folder: the model folder.
        folds: folds to load; ``None``: :meth:`ModelFolder.default_folds`.
        checkpoint_name: the checkpoint file of each fold.
        prompted: the networks will be prompted (``samseg_predict --prompts``): any
            promptable kind is accepted (``samseg.models.promptable``: SamSegmenters,
            ``promptable_sam`` included, and ProMISe); otherwise a
            ``promptable_sam`` checkpoint (its class head is untrained) is refused.

    Raises:
        SamsegInputError: what :meth:`ModelFolder.open` and :meth:`ModelFolder.checkpoints`
            raise, a checkpoint that does not fit the plans, a prompts-only checkpoint without
            ``prompted``, or (``prompted``) a network that is not promptable; each
            message names the checkpoint file.
    """
    model = ModelFolder.open(folder)
    checkpoints = model.checkpoints(folds, checkpoint_name)
    networks = []
    mirror_axes = set(MIRROR_AXES)
    for path in checkpoints:
        checkpoint = read_trained_checkpoint(path)
        if checkpoint.network.kind == PROMPTABLE_SAM_KIND and not prompted:
            raise SamsegInputError(
                f"{path}: expected a network for prompt-free prediction, found kind "
                f"{PROMPTABLE_SAM_KIND}, trained for prompts only: give --prompts "
                "box|point|points:N|clicks:N and --prompt_labels DIR"
            )
        network = network_from_checkpoint(checkpoint)
        if prompted and not isinstance(network, PromptableNetwork):
            raise SamsegInputError(
                f"{path}: expected a promptable SAM network (a SamSegmenter or ProMISe) for "
                f"prompted prediction, found kind {checkpoint.network.kind!r}"
            )
        if prompted:
            check_input_size(network, model.plans, model.configuration, str(path))
        else:
            check_fits_plans(network, model.plans, model.configuration, str(path))
        if has_lora(network):
            merge_lora(network)
        networks.append(network)
        mirror_axes &= set(checkpoint.mirroring_axes)
    source = {
        "model_folder": str(model.folder),
        "checkpoints": [str(p) for p in checkpoints],
        "checkpoint_versions": run_record.checkpoint_versions(checkpoints),
    }
    return LoadedModel(model, networks, tuple(sorted(mirror_axes)), source)


def check_fits_plans(network: Any, plans: Plans, configuration: str, where: str) -> None:
    """Check a network's ``input_size`` and ``num_classes`` against the plans.

    Args:
        network: a slice network (``input_size``, ``num_classes`` attributes).
        plans: the plans it should have been trained with.
        configuration: the plans configuration it predicts (``2d_512``).
        where: names the network in the message (its checkpoint file).

    Raises:
        SamsegInputError: ``"<where>: expected ..., found ..."``.
    """
    check_input_size(network, plans, configuration, where)
    handling = plans.label_handling
    if int(network.num_classes) != handling.num_classes:
        raise SamsegInputError(
            f"{where}: expected {handling.num_classes} output classes (the plans' "
            f"{list(handling.class_names)}), found {network.num_classes}"
        )


def check_input_size(network: Any, plans: Plans, configuration: str, where: str) -> None:
    """Check a network's ``input_size`` against the configuration's (prompted networks: their
    class head is not used, so only the size must fit).

    Raises:
        SamsegInputError: ``"<where>: expected a network with the input size ..., found ..."``.
    """
    expected_size = plans.configuration(configuration).input_size
    if int(network.input_size) != expected_size:
        raise SamsegInputError(
            f"{where}: expected a network with the input size {expected_size} of configuration "
            f"{configuration}, found {network.input_size}"
        )


def _listing(folder: Path, limit: int = 12) -> str:
    """The names in ``folder`` (at most ``limit``), for error messages."""
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
    if not names:
        return "nothing"
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _siblings(folder: Path) -> str:
    """What the parent of a missing folder holds, for error messages."""
    if folder.parent.is_dir():
        return f"; {folder.parent} holds {_listing(folder.parent)}"
    return ""
