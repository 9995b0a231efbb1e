"""Which SAM weights a training run starts from.

``--sam_checkpoint PATH`` names a file (official SAM, MedSAM or samseg checkpoint);
``--sam_checkpoint none`` starts from random weights (tests, demos; logged loudly). Without the
flag, the official file of the model type (``sam_vit_b_01ec64.pth`` for ``vit_b`` ...) is
looked for in the folder named by the environment variable ``SAMSEG_sam_checkpoints``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from samseg.errors import SamsegConfigError
from samseg.models import get_architecture
from samseg.models.checkpoint_io import missing_checkpoint_message

SAM_CHECKPOINTS_ENV = "SAMSEG_sam_checkpoints"
RANDOM_INITIALISATION = "none"


def resolve_sam_checkpoint(
    choice: str | os.PathLike | None,
    model_type: str,
    environ: Mapping[str, str] | None = None,
) -> Path | None:
    """The SAM weights file to start from, or ``None`` for random initialisation.

    Args:
        choice: ``--sam_checkpoint``: a path, ``"none"``, or ``None`` (flag not given).
        model_type: the backbone (``vit_b`` ...), which picks the official file name.
        environ: the environment (default ``os.environ``).

    Raises:
        SamsegConfigError: no flag and no official file of ``model_type`` in
            ``$SAMSEG_sam_checkpoints``, or a given path that does not exist; the message
            names the official files and suggests ``--sam_checkpoint none``.
    """
    if choice is not None:
        if str(choice).strip().lower() == RANDOM_INITIALISATION:
            return None
        path = Path(choice).expanduser()
        if not path.is_file():
            raise SamsegConfigError(f"--sam_checkpoint: {missing_checkpoint_message(path)}")
        return path
    environ = os.environ if environ is None else environ
    official = get_architecture(model_type).checkpoint_files
    if not official:
        raise SamsegConfigError(
            f"model type {model_type} has no official SAM checkpoint: pass --sam_checkpoint "
            f"PATH (a samseg checkpoint of a {model_type} network) or --sam_checkpoint none "
            "for random initialisation"
        )
    folder_name = environ.get(SAM_CHECKPOINTS_ENV)
    if not folder_name:
        raise SamsegConfigError(
            f"no --sam_checkpoint given and {SAM_CHECKPOINTS_ENV} is not set: expected it to "
            f"name the folder holding {' or '.join(official)}. "
            f"{missing_checkpoint_message(Path(f'${SAM_CHECKPOINTS_ENV}') / official[0])}"
        )
    folder = Path(folder_name).expanduser()
    for name in official:
        if (folder / name).is_file():
            return folder / name
    raise SamsegConfigError(
        f"no --sam_checkpoint given and {SAM_CHECKPOINTS_ENV}={folder} holds none of "
        f"{', '.join(official)}. {missing_checkpoint_message(folder / official[0])}"
    )
