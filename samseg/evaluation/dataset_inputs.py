"""What ``-d DATASET`` gives an evaluation: labels, file ending, reader and image folders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from samseg.dataset import RawDataset
from samseg.evaluation.labels import EvaluationLabels
from samseg.io import ImageReaderWriter


@dataclass(frozen=True)
class DatasetEvaluationInputs:
    """The parts of a raw dataset an evaluation uses.

    Attributes:
        dataset_name: ``DatasetXXX_Name``.
        labels: the dataset's foreground labels (or regions), ignore label and label values.
        file_ending: the dataset's ``file_ending``.
        reader_writer: the reader/writer dataset.json asks for (or the default for the ending).
        image_folders: ``imagesTs`` then ``imagesTr``, searched for the overlays' images.
    """

    dataset_name: str
    labels: EvaluationLabels
    file_ending: str
    reader_writer: ImageReaderWriter
    image_folders: tuple[Path, ...]


def dataset_evaluation_inputs(dataset: str | int) -> DatasetEvaluationInputs:
    """Resolve ``-d`` (id, ``DatasetXXX_Name`` or name) under the raw root; read dataset.json."""
    raw = RawDataset.find(dataset)
    description = raw.description
    return DatasetEvaluationInputs(
        dataset_name=raw.name,
        labels=EvaluationLabels.from_scheme(description.labels),
        file_ending=description.file_ending,
        reader_writer=description.image_reader_writer(),
        image_folders=(raw.folder / "imagesTs", raw.folder / "imagesTr"),
    )
