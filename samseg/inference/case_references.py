"""Each case's own annotated reference case (a prior scan and its label), for adaptors.

Adaptors that segment by example (P²SAM, ``samseg.adaptation``) may take a different
reference for every case: the longitudinal use, each patient's follow-up with that patient's
annotated prior scan. The folder prediction (``samseg.inference.folder_prediction``) is given
``identifier -> (channel files, label file)``; this module

- names those files in nnU-Net's layout (:func:`reference_files`: ``IMAGES/CASE_XXXX<ending>``
  and ``LABELS/CASE<ending>``, ``CASE`` the target's identifier),
- checks before anything is written that every case to predict has its reference and that its
  files exist (:func:`check_references`), and
- preprocesses each reference, label included, with the predictor's plans exactly as a
  training case is (:class:`ReferenceLoader`; consecutive cases sharing one reference get the
  same preprocessed object, so an adaptor's per-reference features are computed once).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

from samseg.dataset import DatasetDescription
from samseg.errors import SamsegInputError
from samseg.io import ImageReaderWriter
from samseg.plans import Plans
from samseg.preprocessing import PreprocessedCase, preprocess_case

ReferenceFiles = tuple[Sequence[str | os.PathLike], str | os.PathLike]
"""One annotated reference: its channel files (channel order) and its label file."""


def reference_files(
    images_folder: str | os.PathLike,
    labels_folder: str | os.PathLike,
    identifiers: Collection[str],
    description: DatasetDescription,
) -> dict[str, tuple[list[Path], Path]]:
    """``identifier -> ([IMAGES/CASE_0000<ending>, ...], LABELS/CASE<ending>)`` for every case.

    The files are not looked for here: :func:`check_references` checks those of the cases a
    run predicts (its part), before anything is written.

    Args:
        images_folder: folder of the references' ``CASE_XXXX<file_ending>`` channel files.
        labels_folder: folder of their ``CASE<file_ending>`` labels.
        identifiers: the cases (targets) that need a reference.
        description: the dataset.json (file ending, channel files per case).

    Raises:
        SamsegInputError: a folder that does not exist.
    """
    images_folder, labels_folder = Path(images_folder), Path(labels_folder)
    ending = description.file_ending
    for folder, what in ((images_folder, f"CASE_XXXX{ending}"), (labels_folder, f"CASE{ending}")):
        if not folder.is_dir():
            raise SamsegInputError(
                f"{folder}: expected the folder of reference files ({what} per case), found "
                "no such folder"
            )
    return {
        identifier: (
            [
                images_folder / f"{identifier}_{channel:04d}{ending}"
                for channel in range(description.num_channel_files)
            ],
            labels_folder / f"{identifier}{ending}",
        )
        for identifier in sorted(identifiers)
    }


def check_references(
    references: Mapping[str, ReferenceFiles] | None,
    identifiers: Sequence[str],
    num_channel_files: int,
) -> dict[str, tuple[list[Path], Path]] | None:
    """The reference of each case to predict, checked; ``None`` without references.

    Raises:
        SamsegInputError: a case without reference (naming it), a reference with another
            number of channel files than the dataset's, or a missing file (naming the file,
            its case and how many cases lack a file).
    """
    if references is None:
        return None
    checked: dict[str, tuple[list[Path], Path]] = {}
    for identifier in identifiers:
        if identifier not in references:
            raise SamsegInputError(
                f"case {identifier}: expected an annotated reference (channel files and label) "
                "for every case, found none"
            )
        images, label = references[identifier]
        images = [Path(p) for p in images]
        if len(images) != num_channel_files:
            raise SamsegInputError(
                f"reference of case {identifier}: expected {num_channel_files} channel file(s) "
                f"like the dataset's cases, found {len(images)}"
            )
        checked[identifier] = (images, Path(label))
    missing = [
        (identifier, path)
        for identifier, (images, label) in checked.items()
        for path in (*images, label)
        if not path.exists()
    ]
    if missing:
        identifier, path = missing[0]
        cases = len({i for i, _ in missing})
        more = f" ({cases} cases lack a reference file)" if cases > 1 else ""
        raise SamsegInputError(
            f"{path}: expected a reference file of case {identifier}, found no such file{more}"
        )
    return checked


def reference_inputs(references: Mapping[str, ReferenceFiles] | None) -> dict[str, list[Path]]:
    """Every reference's files as inputs (``CASE/reference`` -> files), which no output may
    replace (``samseg.inference.output_files.check_no_input_overwritten``)."""
    return {
        f"{identifier}/reference": [*map(Path, images), Path(label)]
        for identifier, (images, label) in (references or {}).items()
    }


class ReferenceLoader:
    """Preprocesses references with a predictor's plans, keeping the last one.

    Args:
        plans: the plans the targets are preprocessed with.
        reader_for: the reader for a file (the predictor's choice for its inputs).
    """

    def __init__(self, plans: Plans, reader_for: Callable[[Path], ImageReaderWriter]) -> None:
        self.plans = plans
        self.reader_for = reader_for
        self._last: tuple[tuple[Path, ...], PreprocessedCase] | None = None

    def __call__(self, files: tuple[Sequence[Path], Path]) -> PreprocessedCase:
        """The reference preprocessed as a training case: ``data`` (c, slices, R, C) 0-255,
        ``label`` (1, slices, R, C); the same object as last time for the same files.

        Raises:
            SamsegInputError: naming the file: unreadable, a label whose shape or spacing
                differs from its image, or label values the plans do not know.
        """
        images, label = files
        key = (*images, label)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        case = preprocess_case(images, label, self.plans, self.reader_for(Path(images[0])))
        self._last = (key, case)
        return case
