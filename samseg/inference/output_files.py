"""The files a prediction run writes, all atomically (temporary name, then rename).

Per case: ``CASE<file_ending>`` (the segmentation) and, with ``save_probabilities``,
``CASE.npz`` (``probabilities``, (C, z, y, x) float32 in the raw image's geometry and axis
order, as nnU-Net saves them) plus ``CASE.json`` (the case's preprocessing properties and
class names). The segmentation is written last, so a case whose segmentation exists is
complete; ``continue_prediction`` skips exactly those.

Per run: the run record (``samseg.inference.run_record``). No output may be an input file:
a run whose outputs would replace one of its images is refused before anything is written.
Temporaries carry their process id; a run removes only those whose process has ended, so
runs predicting into one folder at the same time do not break each other.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from samseg.errors import SamsegInputError
from samseg.io import atomic_output, write_json
from samseg.io.atomic import PARTIAL_MARKER, is_stale_partial
from samseg.preprocessing import CaseProperties


def prepare_output_folder(folder: Path) -> bool:
    """Create ``folder`` if needed and check that files can be written into it.

    Returns:
        Whether this call created ``folder``.

    Raises:
        SamsegInputError: naming the folder, when it cannot be created or written to.
    """
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write_test_"):
            pass
    except OSError as error:
        raise SamsegInputError(
            f"{folder}: expected an output folder samseg can write to, found "
            f"{error.strerror or error}"
        ) from None
    return created


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
    """Delete the temporary files killed runs left for these cases; return how many.

    Only the given cases' files are touched, and of those only temporaries whose process has
    ended, so runs predicting into the same folder at the same time (other parts, or the same
    cases) keep their files in progress.
    """
    names = {name for i in identifiers for name in case_files(i, file_ending)}
    partial = [
        path
        for path in folder.iterdir()
        if PARTIAL_MARKER in path.name
        and path.name.split(PARTIAL_MARKER, 1)[1] in names
        and is_stale_partial(path)
    ]
    for path in partial:
        path.unlink(missing_ok=True)
    return len(partial)


def planned_outputs(
    folder: Path, identifiers: Sequence[str], file_ending: str, probabilities: bool
) -> list[Path]:
    """Every case file a run of ``identifiers`` may write into ``folder``."""
    count = 3 if probabilities else 1
    return [
        folder / name
        for identifier in identifiers
        for name in case_files(identifier, file_ending)[:count]
    ]


def check_no_input_overwritten(
    outputs: Collection[Path], cases: Mapping[str, Sequence[Path]]
) -> None:
    """Refuse outputs that are (or are the same file as) an input of any case.

    DICOM series folders count with the files they hold.

    Raises:
        SamsegInputError: naming the output and the input it would replace.
    """
    inputs: dict[tuple[int, int], Path] = {}
    for files in cases.values():
        for path in map(Path, files):
            for file in sorted(path.iterdir()) if path.is_dir() else [path]:
                status = file.stat()
                inputs[(status.st_dev, status.st_ino)] = file
    for output in outputs:
        try:
            status = output.stat()
        except OSError:
            continue
        replaced = inputs.get((status.st_dev, status.st_ino))
        if replaced is not None:
            raise SamsegInputError(
                f"{output}: expected an output file that is not an input, found it is the input "
                f"image {replaced}; choose another output folder (-o)"
            )


def existing_segmentations(
    folder: Path, file_ending: str, cases: Mapping[str, Sequence[Path]]
) -> list[Path]:
    """The finished segmentation-like files in ``folder``: visible files with the dataset's
    ending that are not inputs of ``cases``."""
    inputs = {Path(p).resolve() for files in cases.values() for p in files}
    return sorted(
        path
        for path in folder.iterdir()
        if path.name.endswith(file_ending)
        and not path.name.startswith(".")
        and path.is_file()
        and path.resolve() not in inputs
    )


@contextmanager
def lost_temporary_is_an_error(target: Path) -> Iterator[None]:
    """Turn a temporary file removed by someone else before its rename into one clear line.

    Raises:
        SamsegInputError: naming ``target`` and the lost temporary.
    """
    try:
        yield
    except FileNotFoundError as error:
        if PARTIAL_MARKER not in str(error.filename):
            raise
        raise SamsegInputError(
            f"{target}: expected to finish writing it, found its temporary file "
            f"{error.filename} removed by another process; predict again (with "
            "--continue_prediction finished cases are kept)"
        ) from None


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


def output_file(folder: str | os.PathLike, identifier: str, file_ending: str) -> Path:
    """``folder/CASE<file_ending>``."""
    return Path(folder) / case_files(identifier, file_ending)[0]
