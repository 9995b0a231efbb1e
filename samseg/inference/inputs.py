"""Find the cases to predict in what the user passed as INPUT.

Each INPUT path may be

- a folder of ``CASE_XXXX<file_ending>`` files (nnU-Net's layout; XXXX the channel index),
  grouped into cases by the dataset's channel count; every case must have all channels;
- a folder whose sub-folders each hold one DICOM series (one case per sub-folder, named
  after it), or a folder that is itself one DICOM series (a case named after the folder);
- a single image file (one case, single-channel datasets only), named after the file with
  its ending and any ``_XXXX`` channel suffix removed.

Files of a case folder that are not used (channels beyond the dataset's, names that do not
match ``CASE_XXXX<file_ending>``) are listed in a warning; hidden files and the outputs of a
prediction into the same folder (``CASE<file_ending>``, ``CASE.npz``, ``CASE.json``, the run
record) are not.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import SimpleITK as sitk

from samseg.dataset import DatasetDescription
from samseg.errors import SamsegInputError
from samseg.inference.output_files import case_files
from samseg.inference.run_record import RECORD_FILES
from samseg.io import reader_writer_for
from samseg.io.registry import READER_WRITERS

_CHANNEL_SUFFIX = re.compile(r"_\d{4}$")
_SHOWN_NAMES = 10
logger = logging.getLogger(__name__)


def find_cases(
    inputs: Sequence[str | os.PathLike], description: DatasetDescription
) -> dict[str, list[Path]]:
    """Case identifier -> channel files (or DICOM series folders), sorted by identifier.

    Raises:
        SamsegInputError: a path that does not exist, a case with missing channel files, a
            folder with nothing to predict, a single file for a multi-channel dataset, or two
            cases with the same identifier.
    """
    cases: dict[str, list[Path]] = {}
    for path in map(Path, inputs):
        for identifier, files in _cases_in(path, description).items():
            if identifier in cases:
                raise SamsegInputError(
                    f"{files[0]}: expected one case per identifier, found case {identifier} "
                    f"also in {cases[identifier][0]}"
                )
            cases[identifier] = files
    return dict(sorted(cases.items()))


def _cases_in(path: Path, description: DatasetDescription) -> dict[str, list[Path]]:
    if path.is_file():
        return {case_identifier(path, description): [_single_channel(path, description)]}
    if not path.is_dir():
        raise SamsegInputError(
            f"{path}: expected a folder of CASE_XXXX{description.file_ending} files, an image "
            "file or a DICOM series folder, found no such file or folder"
        )
    listed = description.list_cases(path, None)
    if listed:
        cases = {case.identifier: list(case.images) for case in listed}
        _warn_about_unused_files(path, cases, description)
        return cases
    if _is_dicom_series(path):
        return {path.name: [_single_channel(path, description)]}
    series = sorted(p for p in path.iterdir() if p.is_dir() and _is_dicom_series(p))
    if series:
        return {folder.name: [_single_channel(folder, description)] for folder in series}
    raise SamsegInputError(
        f"{path}: expected CASE_XXXX{description.file_ending} image files or DICOM series "
        f"folders, found neither among {len(list(path.iterdir()))} entries"
    )


def _warn_about_unused_files(
    folder: Path, cases: dict[str, list[Path]], description: DatasetDescription
) -> None:
    """Log one warning listing the files of ``folder`` that no case uses (see the module)."""
    ending = description.file_ending
    used = {p.name for files in cases.values() for p in files}
    outputs = {name for i in cases for name in case_files(i, ending)} | set(RECORD_FILES)
    channel_file = re.compile(rf"^(.+)_(\d{{4}}){re.escape(ending)}$")
    unused = []
    for name in sorted(os.listdir(folder)):
        if name in used or name in outputs or name.startswith(".") or (folder / name).is_dir():
            continue
        match = channel_file.match(name)
        if match and match.group(1) in cases:
            unused.append(f"{name} (channel {int(match.group(2))} of case {match.group(1)})")
        else:
            unused.append(name)
    if not unused:
        return
    shown = ", ".join(unused[:_SHOWN_NAMES])
    more = f" and {len(unused) - _SHOWN_NAMES} more" if len(unused) > _SHOWN_NAMES else ""
    last = description.num_channels - 1
    logger.warning(
        f"{folder}: skipped {len(unused)} file(s) that are not images of this dataset: "
        f"{shown}{more}; expected CASE_XXXX{ending} with XXXX the channel 0000-{last:04d} "
        f"({', '.join(description.channel_names)})"
    )


def _single_channel(path: Path, description: DatasetDescription) -> Path:
    """``path`` as the one image file of a case; datasets with a file per channel need
    CASE_XXXX files."""
    if description.num_channel_files != 1:
        raise SamsegInputError(
            f"{path}: expected CASE_XXXX{description.file_ending} files with the "
            f"{description.num_channels} channels {list(description.channel_names)} of this "
            "dataset, found a single image"
        )
    reader_writer_for(path)
    return path


def case_identifier(path: Path, description: DatasetDescription) -> str:
    """File name without its ending (the dataset's or a known image ending) and ``_XXXX``."""
    name = path.name
    known = {e for rw in READER_WRITERS.values() for e in rw.supported_file_endings}
    endings = sorted({description.file_ending, *known}, key=len, reverse=True)
    stem = next((name[: -len(e)] for e in endings if name.endswith(e)), path.stem)
    return _CHANNEL_SUFFIX.sub("", stem)


def _is_dicom_series(folder: Path) -> bool:
    return bool(sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder)))
