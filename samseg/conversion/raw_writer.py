"""Write cases into an nnU-Net v2 raw dataset folder, resumably and atomically.

Every converter writes through :class:`RawDatasetWriter`: a case whose image and label both
exist is skipped unless ``overwrite`` is set, every file is written atomically (see
:mod:`samseg.io.atomic`), and ``dataset.json`` is written last, from the cases actually in the
folder, with a ``samseg_conversion`` record of how they were made. A rerun that would mix
cases made differently (another tool, seed or intensity mode) is refused unless ``overwrite``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from samseg.dataset import DatasetDescription, LabelScheme, dataset_folder_name
from samseg.errors import SamsegInputError
from samseg.io import ImageGeometry, SimpleITKIO, read_json, write_json
from samseg.paths import raw_root

logger = logging.getLogger(__name__)

FILE_ENDING = ".nii.gz"
PROVENANCE_KEY = "samseg_conversion"


def dataset_folder(output_root: str | os.PathLike | None, dataset_id: int, name: str) -> Path:
    """``OUTPUT_ROOT/DatasetXXX_Name``; ``output_root=None`` means the raw root (``SAMSEG_raw``)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
        raise SamsegInputError(
            f"dataset name: expected letters, digits, '_' or '-' (like 'Synapse'), found {name!r}"
        )
    root = raw_root() if output_root is None else Path(output_root)
    return root / dataset_folder_name(dataset_id, name)


@dataclass(frozen=True)
class ConversionReport:
    """What one conversion run did.

    Attributes:
        dataset_folder: the ``DatasetXXX_Name`` folder written.
        written: case identifiers written by this run.
        skipped: case identifiers of this run whose files existed already and were kept.
        missing: cases the input was expected to hold but did not (human-readable names).
        removed: case identifiers of earlier runs removed because ``overwrite`` was set.
        num_training: training cases in the folder afterwards (dataset.json ``numTraining``).
        num_test: test cases in the folder afterwards.
    """

    dataset_folder: Path
    written: tuple[str, ...]
    skipped: tuple[str, ...]
    missing: tuple[str, ...]
    removed: tuple[str, ...]
    num_training: int
    num_test: int

    def summary(self) -> str:
        """Human-readable lines saying what was written, kept, removed and missing."""
        lines = [
            f"{self.dataset_folder}: {self.num_training} training and {self.num_test} test cases",
            f"  written {len(self.written)}, kept (already there) {len(self.skipped)}"
            + (f", removed (earlier runs) {len(self.removed)}" if self.removed else ""),
        ]
        if self.missing:
            lines.append(f"  missing from the input: {'; '.join(self.missing)}")
        return "\n".join(lines)


class RawDatasetWriter:
    """Writes (z, y, x) image and label volumes of cases into one raw dataset folder.

    Args:
        folder: the ``DatasetXXX_Name`` folder (created when missing).
        provenance: JSON-able record of how the cases are made (tool, options); stored in
            dataset.json and compared with the one already there.
        case_pattern: regular expression matching the identifiers this tool writes; with
            ``overwrite``, cases matching it that this run did not produce are removed.
        overwrite: rewrite existing cases and ignore an existing dataset.json.
    """

    def __init__(
        self, folder: Path, *, provenance: dict[str, Any], case_pattern: str, overwrite: bool
    ) -> None:
        self.folder = Path(folder)
        self.provenance = provenance
        self.case_pattern = re.compile(case_pattern)
        self.overwrite = overwrite
        self._io = SimpleITKIO()
        self._written: list[str] = []
        self._skipped: list[str] = []
        if not overwrite:
            self._check_provenance()

    def _check_provenance(self) -> None:
        description = self.folder / "dataset.json"
        if not description.is_file():
            return
        found = read_json(description)
        found = found.get(PROVENANCE_KEY) if isinstance(found, dict) else None
        if found != self.provenance:
            raise SamsegInputError(
                f"{description}: expected a dataset made with {PROVENANCE_KEY}={self.provenance}, "
                f"found {found}; pass --overwrite (overwrite=True) to replace it, or choose "
                "another dataset id, name or output root"
            )

    def _paths(self, case: str, *, test: bool) -> tuple[Path, Path]:
        suffix = "Ts" if test else "Tr"
        image = self.folder / f"images{suffix}" / f"{case}_0000{FILE_ENDING}"
        return image, self.folder / f"labels{suffix}" / f"{case}{FILE_ENDING}"

    def has_case(self, case: str, *, test: bool) -> bool:
        """Whether the case is to be kept as it is (both files exist and no ``overwrite``).

        A ``True`` answer records the case as skipped.
        """
        image, label = self._paths(case, test=test)
        if self.overwrite or not (image.is_file() and label.is_file()):
            return False
        self._skipped.append(case)
        return True

    def write_case(
        self,
        case: str,
        image: np.ndarray,
        label: np.ndarray,
        geometry: ImageGeometry,
        *,
        test: bool,
    ) -> None:
        """Write one case: a (z, y, x) intensity volume (dtype kept) and its (z, y, x) labels.

        Both are written with ``geometry`` (spacing in mm, z y x), so the label has exactly the
        image's geometry.
        """
        if image.shape != label.shape:
            raise ValueError(f"{case}: image shape {image.shape} != label shape {label.shape}")
        image_path, label_path = self._paths(case, test=test)
        self._io.write_image(image, image_path, geometry)
        self._io.write_segmentation(label, label_path, geometry)
        self._written.append(case)

    def finish(
        self,
        *,
        channel_names: tuple[str, ...],
        labels: Mapping[str, int],
        name: str,
        description: str,
        missing: tuple[str, ...] = (),
    ) -> ConversionReport:
        """Remove or report cases not made by this run, write dataset.json, return the report."""
        produced = set(self._written) | set(self._skipped)
        removed: list[str] = []
        counts = {}
        for test in (False, True):
            present = self._cases_in_folder(test=test)
            leftovers = sorted(present - produced)
            if self.overwrite:
                for case in (c for c in leftovers if self.case_pattern.fullmatch(c)):
                    for path in self._paths(case, test=test):
                        path.unlink(missing_ok=True)
                    removed.append(case)
                present = self._cases_in_folder(test=test)
                leftovers = sorted(present - produced)
            if leftovers:
                logger.warning(
                    "%s: %d case(s) not produced by this run were kept and are counted: %s",
                    self.folder / ("imagesTs" if test else "imagesTr"),
                    len(leftovers),
                    ", ".join(leftovers),
                )
            counts[test] = len(self._cases_in_folder(test=test, kinds=("images",)))
        dataset = DatasetDescription(
            channel_names=channel_names,
            labels=LabelScheme(names=dict(labels)),
            file_ending=FILE_ENDING,
            num_training=counts[False],
            extra={"name": name, "description": description, PROVENANCE_KEY: self.provenance},
        )
        write_json(dataset.to_json(), self.folder / "dataset.json")
        return ConversionReport(
            dataset_folder=self.folder,
            written=tuple(self._written),
            skipped=tuple(self._skipped),
            missing=missing,
            removed=tuple(removed),
            num_training=counts[False],
            num_test=counts[True],
        )

    def _cases_in_folder(
        self, *, test: bool, kinds: tuple[str, ...] = ("images", "labels")
    ) -> set[str]:
        """Identifiers with a file in imagesT?/labelsT? (hidden partial files ignored)."""
        suffix = "Ts" if test else "Tr"
        tails = {"images": f"_0000{FILE_ENDING}", "labels": FILE_ENDING}
        found: set[str] = set()
        for kind in kinds:
            folder, tail = self.folder / f"{kind}{suffix}", tails[kind]
            if folder.is_dir():
                found.update(
                    p.name[: -len(tail)]
                    for p in folder.iterdir()
                    if p.name.endswith(tail) and not p.name.startswith(".")
                )
        return found
