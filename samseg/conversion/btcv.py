"""Convert BTCV RawData to the Synapse 8-organ dataset in nnU-Net v2 raw layout.

BTCV ships ``RawData/Training/img/img0001.nii.gz`` and ``RawData/Training/label/
label0001.nii.gz`` (13 organs). The 30 labelled cases become ``synapse_XXXX`` with labels
mapped to Synapse's 8 organs, split into 18 training and 12 test cases (see
:mod:`samseg.conversion.synapse`).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from samseg.conversion.raw_writer import ConversionReport, RawDatasetWriter, dataset_folder
from samseg.conversion.synapse import (
    CASE_PREFIX,
    SYNAPSE_CASES,
    SYNAPSE_LABELS,
    is_test_case,
    map_btcv_labels,
    synapse_case_id,
)
from samseg.errors import SamsegInputError
from samseg.io import ImageGeometry, SimpleITKIO

logger = logging.getLogger(__name__)

IMAGE_NAME = re.compile(r"^img(\d{4})\.nii\.gz$")
LABEL_NAME = re.compile(r"^label(\d{4})\.nii\.gz$")
DESCRIPTION = (
    "BTCV abdomen (Multi-Atlas Labeling Beyond the Cranial Vault) reduced to the 8 Synapse "
    "organs, with the standard 18/12 split of TransUNet; converted by samseg_convert_btcv."
)


@dataclass(frozen=True)
class BTCVCase:
    """One labelled BTCV scan: its case number and its image and label files."""

    number: int
    image: Path
    label: Path


def find_btcv_cases(folder: str | os.PathLike) -> tuple[list[BTCVCase], list[str]]:
    """The Synapse cases found anywhere under ``folder``, and a note for each one missing.

    Files are recognised by name (``img0001.nii.gz``, ``label0001.nii.gz``); only the 30
    labelled Synapse cases are returned. A case found twice is an error naming both files, and
    so is a folder holding none of the cases.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SamsegInputError(f"{folder}: expected a folder holding BTCV RawData, found none")
    images = _files_by_number(folder, IMAGE_NAME)
    labels = _files_by_number(folder, LABEL_NAME)
    cases, missing = [], []
    for number in SYNAPSE_CASES:
        image, label = images.get(number), labels.get(number)
        if image is not None and label is not None:
            cases.append(BTCVCase(number, image, label))
        elif image is not None or label is not None:
            missing.append(
                f"case {number} ({(image or label).name} without "
                f"{'label' if image else 'img'}{number:04d}.nii.gz)"
            )
        else:
            missing.append(f"case {number}")
    if not cases:
        found = sorted(p.name for p in folder.rglob("*") if p.is_file())
        shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "") if found else "no files"
        raise SamsegInputError(
            f"{folder}: expected BTCV files img0001.nii.gz and label0001.nii.gz ... (usually in "
            f"RawData/Training/img and RawData/Training/label) for cases 1-10 and 21-40, "
            f"found {len(found)} files: {shown}"
        )
    ignored = sorted((set(images) | set(labels)) - set(SYNAPSE_CASES))
    if ignored:
        logger.info("ignoring BTCV cases outside Synapse (no labels published): %s", ignored)
    return cases, missing


def _files_by_number(folder: Path, pattern: re.Pattern[str]) -> dict[int, Path]:
    found: dict[int, Path] = {}
    for path in sorted(folder.rglob("*.nii.gz")):
        match = pattern.match(path.name)
        if match is None:
            continue
        number = int(match.group(1))
        if number in found:
            raise SamsegInputError(
                f"{path}: expected one file per case, found a second one for case {number} "
                f"besides {found[number]}"
            )
        found[number] = path
    return found


def read_btcv_case(case: BTCVCase) -> tuple[np.ndarray, np.ndarray, ImageGeometry]:
    """Read one case: the (z, y, x) image (dtype kept), its (z, y, x) uint8 Synapse labels and
    the image geometry, which the labels take over.

    Labels whose shape differs from the image's are an error naming both files; a label whose
    geometry differs more than slightly is taken over all the same, with a warning.
    """
    reader = SimpleITKIO()
    image, geometry = reader.read_volume(case.image)
    labels, label_geometry = reader.read_segmentation(case.label)
    if labels.shape[1:] != image.shape:
        raise SamsegInputError(
            f"{case.label}: expected the shape {image.shape} (z, y, x) of {case.image}, "
            f"found {labels.shape[1:]}"
        )
    if not label_geometry.matches(geometry, tolerance=1e-3):
        logger.warning(
            "%s: geometry (spacing %s, origin %s) differs from %s (spacing %s, origin %s); "
            "writing the label with the image's geometry",
            case.label,
            label_geometry.spacing,
            label_geometry.origin,
            case.image.name,
            geometry.spacing,
            geometry.origin,
        )
    return image, map_btcv_labels(labels[0]), geometry


def convert_btcv(
    input_folder: str | os.PathLike,
    output_root: str | os.PathLike | None = None,
    *,
    dataset_id: int = 2,
    name: str = "Synapse",
    overwrite: bool = False,
    progress: bool = True,
) -> ConversionReport:
    """Convert BTCV RawData under ``input_folder`` to ``OUTPUT_ROOT/DatasetXXX_Name``.

    ``output_root=None`` writes under the raw root. Missing cases are warned about and left
    out; cases already converted are kept unless ``overwrite``.
    """
    cases, missing = find_btcv_cases(input_folder)
    if missing:
        logger.warning(
            "%s: %d of %d Synapse cases missing, converting the others: %s",
            input_folder,
            len(missing),
            len(SYNAPSE_CASES),
            "; ".join(missing),
        )
    writer = RawDatasetWriter(
        dataset_folder(output_root, dataset_id, name),
        provenance={"source": "BTCV RawData", "labels": "Synapse 8 organs"},
        case_pattern=rf"{CASE_PREFIX}_\d{{4}}",
        overwrite=overwrite,
    )
    for case in tqdm(cases, desc="BTCV -> Synapse", unit="case", disable=not progress):
        identifier, test = synapse_case_id(case.number), is_test_case(case.number)
        if writer.has_case(identifier, test=test):
            continue
        image, labels, geometry = read_btcv_case(case)
        writer.write_case(identifier, image, labels, geometry, test=test)
    return writer.finish(
        channel_names=("CT",),
        labels=SYNAPSE_LABELS,
        name=name,
        description=DESCRIPTION,
        missing=tuple(missing),
    )
