"""Convert TransUNet/SAMed-preprocessed Synapse (npz slices, h5 volumes) to NIfTI volumes.

TransUNet clipped CT to [-125, 275] HU and scaled it to [0, 1]. By default the scaling is
undone (``HU = x * 400 - 125``) so the images are CT again and samseg's CT normalization
applies (intensities outside the window stay clipped). With ``keep_normalized`` the values are
written as they are and the channel is called ``normalized``, which the planner normalizes with
a z-score. The format stores no geometry: every volume gets ``spacing`` (z, y, x) in mm, origin
0 and the identity direction, and a warning says so.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

from samseg.conversion.raw_writer import ConversionReport, RawDatasetWriter, dataset_folder
from samseg.conversion.synapse import CASE_PREFIX, SYNAPSE_LABELS, synapse_case_id
from samseg.conversion.transunet_files import find_transunet_cases, read_transunet_case
from samseg.errors import SamsegInputError
from samseg.io import ImageGeometry

logger = logging.getLogger(__name__)

HU_WINDOW = (-125.0, 275.0)
IDENTITY_DIRECTION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def normalized_to_hu(image: np.ndarray) -> np.ndarray:
    """Undo TransUNet's scaling: [0, 1] -> [-125, 275] HU (float32, any shape)."""
    low, high = HU_WINDOW
    return (image.astype(np.float32) * np.float32(high - low) + np.float32(low)).astype(np.float32)


def hu_to_normalized(image: np.ndarray) -> np.ndarray:
    """TransUNet's scaling: clip to [-125, 275] HU, map to [0, 1] (float32, any shape)."""
    low, high = HU_WINDOW
    clipped = np.clip(image.astype(np.float32), low, high)
    return ((clipped - np.float32(low)) / np.float32(high - low)).astype(np.float32)


def convert_transunet(
    input_folder: str | os.PathLike,
    output_root: str | os.PathLike | None = None,
    *,
    dataset_id: int = 2,
    name: str = "Synapse",
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    keep_normalized: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> ConversionReport:
    """Convert ``train_npz``/``test_vol_h5`` under ``input_folder`` to a raw dataset.

    Training cases go to imagesTr/labelsTr, test volumes to imagesTs/labelsTs, as
    ``synapse_XXXX``. ``spacing`` is (z, y, x) in mm; ``output_root=None`` writes under the
    raw root. Cases already converted are kept unless ``overwrite``.
    """
    spacing = _checked_spacing(spacing)
    cases = find_transunet_cases(input_folder)
    logger.warning(
        "%s: TransUNet data stores no voxel spacing, origin or orientation; writing spacing "
        "(z, y, x) = %s mm, origin 0 and identity direction (set the spacing with --spacing Z Y X)",
        input_folder,
        spacing,
    )
    geometry = ImageGeometry(spacing=spacing, origin=(0.0, 0.0, 0.0), direction=IDENTITY_DIRECTION)
    intensities = "normalized" if keep_normalized else "HU"
    writer = RawDatasetWriter(
        dataset_folder(output_root, dataset_id, name),
        provenance={
            "source": "TransUNet preprocessed Synapse",
            "intensities": intensities,
            "spacing": list(spacing),
        },
        case_pattern=rf"{CASE_PREFIX}_\d{{4}}",
        overwrite=overwrite,
    )
    for case in tqdm(cases, desc="TransUNet -> Synapse", unit="case", disable=not progress):
        identifier = synapse_case_id(case.number)
        if writer.has_case(identifier, test=case.test):
            continue
        image, labels = read_transunet_case(
            case, intensity_range=None if keep_normalized else (0.0, 1.0)
        )
        if not keep_normalized:
            image = normalized_to_hu(image)
        writer.write_case(identifier, image, labels, geometry, test=case.test)
    return writer.finish(
        channel_names=("normalized" if keep_normalized else "CT",),
        labels=SYNAPSE_LABELS,
        name=name,
        description=(
            "Synapse 8 organs converted by samseg_convert_transunet from TransUNet's "
            f"preprocessed npz/h5 files; intensities {intensities}"
            + (" (x * 400 - 125 of the [0, 1] data)" if not keep_normalized else "")
            + f"; spacing {list(spacing)} mm set by the converter, not measured."
        ),
    )


def _checked_spacing(spacing: Sequence[float]) -> tuple[float, float, float]:
    values = tuple(float(s) for s in spacing)
    if len(values) != 3 or not all(math.isfinite(s) and s > 0 for s in values):
        raise SamsegInputError(
            f"--spacing: expected three positive numbers Z Y X in mm, found {list(spacing)}"
        )
    return values
