"""The files a prediction run writes, all atomically (temporary name, then rename).

Per case: ``CASE<file_ending>`` (the segmentation) and, with ``save_probabilities``,
``CASE.npz`` (``probabilities``, (C, z, y, x) float32 in the raw image's geometry and axis
order, as nnU-Net saves them) plus ``CASE.json`` (the case's preprocessing properties and
class names). The segmentation is written last, so a case whose segmentation exists is
complete; ``continue_prediction`` skips exactly those.

Per run: ``plans.json``, ``dataset.json`` and ``prediction_settings.json`` beside the
predictions, so the output folder says how it was made.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from samseg.dataset import DatasetDescription
from samseg.errors import SamsegInputError
from samseg.io import atomic_output, write_json
from samseg.io.atomic import PARTIAL_MARKER
from samseg.planning.plans import Plans
from samseg.preprocessing import CaseProperties

SETTINGS_FILE = "prediction_settings.json"


def prepare_output_folder(folder: Path) -> None:
    """Create ``folder`` if needed and check that files can be written into it.

    Raises:
        SamsegInputError: naming the folder, when it cannot be created or written to.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write_test_"):
            pass
    except OSError as error:
        raise SamsegInputError(
            f"{folder}: expected an output folder samseg can write to, found "
            f"{error.strerror or error}"
        ) from None


def select_part(identifiers: Sequence[str], num_parts: int, part_id: int) -> list[str]:
    """The cases of part ``part_id`` of ``num_parts`` (every num_parts-th, sorted, as nnU-Net).

    Raises:
        SamsegInputError: ``num_parts < 1`` or ``part_id`` outside [0, num_parts).
    """
    if num_parts < 1 or not 0 <= part_id < num_parts:
        raise SamsegInputError(
            f"-num_parts {num_parts} -part_id {part_id}: expected num_parts >= 1 and "
            f"0 <= part_id < num_parts"
        )
    return sorted(identifiers)[part_id::num_parts]


def check_inputs_exist(cases: Mapping[str, Sequence[Path]]) -> None:
    """Raise a SamsegInputError naming the first input file or folder that does not exist."""
    for identifier, files in cases.items():
        if not files:
            raise SamsegInputError(f"case {identifier}: expected image files, found none")
        for path in files:
            if not Path(path).exists():
                raise SamsegInputError(
                    f"{path}: expected an image of case {identifier}, found no such file"
                )


def case_files(identifier: str, file_ending: str) -> tuple[str, str, str]:
    """Names of a case's outputs: segmentation, probabilities, properties."""
    return f"{identifier}{file_ending}", f"{identifier}.npz", f"{identifier}.json"


def is_complete(folder: Path, identifier: str, file_ending: str, probabilities: bool) -> bool:
    """Whether a case's outputs all exist (its segmentation, and probabilities if asked)."""
    segmentation, probability_file, _ = case_files(identifier, file_ending)
    if not (folder / segmentation).is_file():
        return False
    return not probabilities or (folder / probability_file).is_file()


def remove_partial_files(folder: Path, identifiers: Sequence[str], file_ending: str) -> int:
    """Delete the temporary files a killed run left for these cases; return how many.

    Only the given cases' files are touched, so parts predicted by other processes into the
    same folder (``num_parts``) keep their files in progress.
    """
    names = {name for i in identifiers for name in case_files(i, file_ending)}
    partial = [
        path
        for path in folder.iterdir()
        if PARTIAL_MARKER in path.name and path.name.split(PARTIAL_MARKER, 1)[1] in names
    ]
    for path in partial:
        path.unlink(missing_ok=True)
    return len(partial)


def write_probabilities(
    folder: Path,
    identifier: str,
    probabilities: np.ndarray,
    properties: CaseProperties,
    class_names: Sequence[str],
) -> None:
    """Write ``CASE.npz`` ((C, z, y, x) float32 ``probabilities``) and ``CASE.json``."""
    _, probability_file, properties_file = case_files(identifier, "")
    write_json(
        {"class_names": list(class_names), "properties": properties.to_json()},
        folder / properties_file,
    )
    with atomic_output(folder / probability_file) as temporary, open(temporary, "wb") as file:
        np.savez_compressed(file, probabilities=probabilities.astype(np.float32, copy=False))


def write_run_record(
    folder: Path, plans: Plans, description: DatasetDescription, settings: dict
) -> None:
    """Write the plans, dataset.json and the prediction settings beside the predictions."""
    plans.save(folder / "plans.json")
    write_json(description.to_json(), folder / "dataset.json")
    write_json(settings, folder / SETTINGS_FILE)


def output_file(folder: str | os.PathLike, identifier: str, file_ending: str) -> Path:
    """``folder/CASE<file_ending>``."""
    return Path(folder) / case_files(identifier, file_ending)[0]
