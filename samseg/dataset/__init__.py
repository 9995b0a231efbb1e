"""Raw datasets in nnU-Net v2 layout: dataset.json model, case listing, ``-d`` resolution."""

from samseg.dataset.description import CaseFiles, DatasetDescription
from samseg.dataset.labels import LabelScheme
from samseg.dataset.lookup import dataset_folder_name, existing_datasets, resolve_dataset_name
from samseg.dataset.raw import RawDataset

__all__ = [
    "CaseFiles",
    "DatasetDescription",
    "LabelScheme",
    "RawDataset",
    "dataset_folder_name",
    "existing_datasets",
    "resolve_dataset_name",
]
