"""The label files prompted prediction simulates its prompts from (``--prompt_labels DIR``).

Each case ``CASE`` has its prompt label ``DIR/CASE<file_ending>`` (the dataset's ending, as in
``labelsTr``). The label must lie on the image's voxel grid (same shape, spacing, origin and
direction) and hold only label values of the plans; it is preprocessed together with the image
exactly as a training case is (``samseg.preprocessing.preprocess_case``: reorientation, crop,
transpose, in-plane resampling), so the preprocessed case carries it as its ``label``.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from pathlib import Path

from samseg.errors import SamsegInputError
from samseg.io import ImageReaderWriter
from samseg.plans import Plans
from samseg.preprocessing import PreprocessedCase, preprocess_case


def prompt_label_files(
    folder: str | os.PathLike, identifiers: Collection[str], file_ending: str
) -> dict[str, Path]:
    """``identifier -> folder/identifier<file_ending>`` for every case.

    Raises:
        SamsegInputError: the folder does not exist, or a case has no label file (naming the
            file expected and how many cases lack one).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SamsegInputError(
            f"{folder}: expected the folder of prompt labels (CASE{file_ending} per case), "
            "found no such folder"
        )
    files = {identifier: folder / f"{identifier}{file_ending}" for identifier in identifiers}
    missing = sorted(identifier for identifier, path in files.items() if not path.is_file())
    if missing:
        more = f" ({len(missing)} cases lack one)" if len(missing) > 1 else ""
        raise SamsegInputError(
            f"{files[missing[0]]}: expected the prompt label of case {missing[0]}, found no "
            f"such file{more}"
        )
    return dict(sorted(files.items()))


def preprocess_with_prompt_label(
    image_paths: Sequence[Path],
    label_path: Path,
    plans: Plans,
    reader_writer: ImageReaderWriter,
) -> PreprocessedCase:
    """The case preprocessed as a training case, its ``label`` the prompt label.

    ``preprocess_case`` checks the label's shape, spacing and values; the label's origin and
    direction are compared with the image's here (the label file's header is read once more:
    label files are small, the image is read once).

    Raises:
        SamsegInputError: naming the label file: another grid than the image's (shape,
            spacing, origin or direction), or label values the plans do not know (the network
            has no class for them).
    """
    label_geometry = reader_writer.read_segmentation(label_path)[1]
    case = preprocess_case(image_paths, label_path, plans, reader_writer)
    image_geometry = case.properties.geometry
    if not label_geometry.matches(image_geometry):
        raise SamsegInputError(
            f"{label_path}: expected a prompt label on the grid of {Path(image_paths[0]).name} "
            f"(spacing {_rounded(image_geometry.spacing)}, origin "
            f"{_rounded(image_geometry.origin)}, direction {_rounded(image_geometry.direction)}), "
            f"found spacing {_rounded(label_geometry.spacing)}, origin "
            f"{_rounded(label_geometry.origin)}, direction {_rounded(label_geometry.direction)}"
        )
    return case


def _rounded(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(round(float(v), 4) for v in values)
