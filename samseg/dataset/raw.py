"""A raw dataset in nnU-Net v2 layout: ``DatasetXXX_Name/{dataset.json, imagesTr, ...}``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from samseg.dataset.description import CaseFiles, DatasetDescription
from samseg.dataset.lookup import resolve_dataset_name
from samseg.errors import SamsegInputError
from samseg.paths import preprocessed_root, raw_root


@dataclass(frozen=True)
class RawDataset:
    """One raw dataset folder and its validated dataset.json."""

    folder: Path

    @classmethod
    def find(cls, query: str | int) -> RawDataset:
        """The raw dataset that ``-d query`` names, under the raw root."""
        root = raw_root()
        return cls(root / resolve_dataset_name(query, [root]))

    @property
    def name(self) -> str:
        """``DatasetXXX_Name``."""
        return self.folder.name

    @cached_property
    def description(self) -> DatasetDescription:
        return DatasetDescription.load(self.folder / "dataset.json")

    @cached_property
    def training_cases(self) -> list[CaseFiles]:
        """Training cases (imagesTr + labelsTr), checked against ``numTraining``."""
        cases = self.description.list_cases(self.folder / "imagesTr", self.folder / "labelsTr")
        if len(cases) != self.description.num_training:
            raise SamsegInputError(
                f"{self.folder / 'dataset.json'}: expected numTraining to match the training cases "
                f"in {self.folder / 'imagesTr'}, found numTraining={self.description.num_training} "
                f"and {len(cases)} cases"
            )
        if not cases:
            raise SamsegInputError(
                f"{self.folder / 'imagesTr'}: expected training cases, found none"
            )
        return cases

    def preprocessed_folder(self) -> Path:
        """Where this dataset's fingerprint, plans and preprocessed data go."""
        return preprocessed_root() / self.name
