"""Trained models on disk: checkpoints, and the model folder's plans and dataset.json.

A model folder ``RESULTS/DatasetXXX_Name/{Trainer}__{Plans}__{configuration}/`` holds
``plans.json``, ``dataset.json`` and ``fold_{f}/checkpoint_{final,best,latest}.pth``
(f = 0..4 or ``all``). A checkpoint is a plain dict read with
``torch.load(weights_only=True)``; the predictor needs two of its entries:
``"network"`` (``NetworkSpec.to_json()``) and ``"network_weights"`` (the state dict).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from samseg.dataset import DatasetDescription
from samseg.errors import SamsegInputError
from samseg.models import SamSegmenter
from samseg.models.checkpoint_io import load_weights_only
from samseg.models.spec import NetworkSpec
from samseg.planning.plans import Plans

NETWORK_KEY = "network"
WEIGHTS_KEY = "network_weights"
DEFAULT_CHECKPOINT = "checkpoint_final.pth"


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

    def checkpoints(
        self, folds: Sequence[int | str] | None, checkpoint_name: str = DEFAULT_CHECKPOINT
    ) -> list[Path]:
        """The checkpoint file of each fold; ``None``: every ``fold_*`` folder that has one.

        Raises:
            SamsegInputError: a fold folder or checkpoint that does not exist (the message
                lists what the folder holds), or no fold at all.
        """
        if folds is None:
            found = sorted(
                p / checkpoint_name
                for p in self.folder.glob("fold_*")
                if (p / checkpoint_name).is_file()
            )
            if not found:
                raise SamsegInputError(
                    f"{self.folder}: expected fold_X/{checkpoint_name} in at least one fold, "
                    f"found none; the folder holds {_listing(self.folder)}"
                )
            return found
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


def load_trained_network(checkpoint_path: str | os.PathLike) -> SamSegmenter:
    """Rebuild the SamSegmenter a samseg checkpoint was saved from, in eval mode on the CPU.

    Reads ``"network"`` (the architecture) and ``"network_weights"`` (a state dict, possibly
    with peft LoRA entries) with ``torch.load(weights_only=True)``.

    Raises:
        SamsegInputError: a missing file (the message lists its folder), a file torch cannot
            read, or content that is not a samseg checkpoint or does not fit its architecture.
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
    content = load_weights_only(path, "a samseg checkpoint")
    missing = (
        [NETWORK_KEY, WEIGHTS_KEY]
        if not isinstance(content, dict)
        else [key for key in (NETWORK_KEY, WEIGHTS_KEY) if key not in content]
    )
    if missing:
        found = sorted(map(str, content)) if isinstance(content, dict) else type(content).__name__
        raise SamsegInputError(
            f"{path}: expected a samseg checkpoint, a dict with the entries "
            f"{NETWORK_KEY!r} and {WEIGHTS_KEY!r}, found {found}"
        )
    if not isinstance(content[NETWORK_KEY], dict):
        raise SamsegInputError(
            f"{path}: expected {NETWORK_KEY!r} to describe the network (NetworkSpec JSON), "
            f"found {type(content[NETWORK_KEY]).__name__}"
        )
    network = NetworkSpec.from_json(content[NETWORK_KEY], str(path)).build()
    try:
        network.load_state_dict(content[WEIGHTS_KEY])
    except (RuntimeError, TypeError, AttributeError) as error:
        first_lines = " ".join(str(error).split())[:600]
        raise SamsegInputError(
            f"{path}: expected {WEIGHTS_KEY!r} to fit the network {content[NETWORK_KEY]}, "
            f"found: {first_lines}"
        ) from None
    return network.eval()


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
