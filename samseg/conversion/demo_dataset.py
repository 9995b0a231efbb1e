"""Write the synthetic demo dataset (``Dataset001_Demo``) in nnU-Net v2 raw layout."""

from __future__ import annotations

import os
from pathlib import Path

from tqdm import tqdm

from samseg.conversion.demo_anatomy import DEMO_LABELS, synthesize_demo_case
from samseg.conversion.raw_writer import ConversionReport, RawDatasetWriter, dataset_folder
from samseg.errors import SamsegInputError

DEMO_DESCRIPTION = (
    "Synthetic abdominal CT-like volumes (int16 HU, 5 mm slices, 2.5-3.2 mm in-plane) with "
    "liver, spleen, kidneys and aorta, made by samseg_make_demo_dataset for demos and tests."
)


def demo_case_id(index: int, *, test: bool) -> str:
    """Identifier of demo case ``index``: ``demo_0003`` (training) or ``demo_test_0003``."""
    return f"demo_test_{index:04d}" if test else f"demo_{index:04d}"


def make_demo_dataset(
    output_root: str | os.PathLike | None = None,
    dataset_id: int = 1,
    name: str = "Demo",
    num_train: int = 10,
    num_test: int = 4,
    seed: int = 0,
    overwrite: bool = False,
    *,
    progress: bool = False,
) -> Path:
    """Write ``num_train`` + ``num_test`` synthetic cases to ``OUTPUT_ROOT/DatasetXXX_Name``.

    ``output_root=None`` writes under the raw root. Training cases go to imagesTr/labelsTr,
    test cases to imagesTs/labelsTs; the same seed gives identical arrays. A rerun keeps
    existing cases unless ``overwrite``; a rerun with other ``num_train``, ``num_test`` or
    ``seed`` needs ``overwrite``. Returns the dataset folder.
    """
    return make_demo_dataset_report(
        output_root,
        dataset_id=dataset_id,
        name=name,
        num_train=num_train,
        num_test=num_test,
        seed=seed,
        overwrite=overwrite,
        progress=progress,
    ).dataset_folder


def make_demo_dataset_report(
    output_root: str | os.PathLike | None = None,
    *,
    dataset_id: int = 1,
    name: str = "Demo",
    num_train: int = 10,
    num_test: int = 4,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = False,
) -> ConversionReport:
    """:func:`make_demo_dataset`, returning what was written, kept and removed."""
    if num_train < 1 or num_test < 0 or seed < 0:
        raise SamsegInputError(
            "demo dataset: expected num_train >= 1, num_test >= 0 and seed >= 0, found "
            f"num_train={num_train}, num_test={num_test}, seed={seed}"
        )
    writer = RawDatasetWriter(
        dataset_folder(output_root, dataset_id, name),
        provenance={
            "source": "samseg synthetic demo",
            "seed": seed,
            "num_train": num_train,
            "num_test": num_test,
        },
        case_pattern=r"demo_(test_)?\d{4}",
        overwrite=overwrite,
    )
    jobs = [(i, False) for i in range(num_train)] + [(i, True) for i in range(num_test)]
    for index, test in tqdm(jobs, desc="demo dataset", unit="case", disable=not progress):
        identifier = demo_case_id(index, test=test)
        if writer.has_case(identifier, test=test):
            continue
        case = synthesize_demo_case(seed, index, test=test)
        writer.write_case(identifier, case.image, case.labels, case.geometry, test=test)
    return writer.finish(
        channel_names=("CT",), labels=DEMO_LABELS, name=name, description=DEMO_DESCRIPTION
    )
