"""An images/ + masks/ folder pair of photos (Kvasir-SEG, ISIC) -> nnU-Net v2 raw dataset.

Each photo becomes ``CASE_0000.png`` holding its R, G and B channels (nnU-Net's natural-image
convention; JPEG photos are decoded once and stored as PNG, so nothing more is lost;
grayscale photos are stored as three equal channels); each mask becomes a binary 0/1
``CASE.png``. The whole dataset folder is written under a temporary name and renamed when
complete, so an interrupted run leaves no half-written dataset; an existing dataset folder,
or another dataset with the same id, is never overwritten.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from samseg.conversion.image_pairs import ImageMaskPair, pair_images_and_masks, split_test_cases
from samseg.conversion.raw_writer import PROVENANCE_KEY, ConversionReport, dataset_folder
from samseg.dataset import DatasetDescription, LabelScheme
from samseg.dataset.lookup import DATASET_FOLDER
from samseg.errors import SamsegInputError
from samseg.io import NaturalImage2DIO, write_json
from samseg.io.atomic import PARTIAL_MARKER
from samseg.io.natural_image import PHOTO_GEOMETRY, read_photo_pixels

logger = logging.getLogger(__name__)

TOOL = "samseg_convert_image_folder"
FILE_ENDING = ".png"
CHANNEL_NAMES = ("R", "G", "B")


@dataclass(frozen=True)
class MaskRule:
    """How a mask's pixels become the binary label.

    Attributes:
        threshold: pixels >= ``threshold`` are the object (JPEG masks are noisy 0..255).
            Masks holding only 0 and 1 are taken as they are.
    """

    threshold: int = 128

    def binary_label(self, mask: np.ndarray) -> np.ndarray:
        """(height, width) uint8 0/1 label from a (height, width[, 3]) uint8 mask; an RGB
        mask is averaged over its channels first."""
        if mask.ndim == 3:
            mask = mask.mean(axis=2)
        if mask.size and mask.max() <= 1:
            return mask.astype(np.uint8)
        return (mask >= self.threshold).astype(np.uint8)


def convert_image_folder(
    images_folder: str | os.PathLike,
    masks_folder: str | os.PathLike,
    output_root: str | os.PathLike | None,
    *,
    dataset_id: int,
    name: str,
    label_name: str = "foreground",
    mask_threshold: int = 128,
    mask_suffix: str | None = None,
    test_fraction: float = 0.0,
    test_list: str | os.PathLike | None = None,
    seed: int = 0,
    progress: bool = True,
) -> ConversionReport:
    """Convert the photos of ``images_folder`` and their masks into ``DatasetXXX_Name``.

    Args:
        output_root: folder to create the dataset in; ``None`` is the raw root.
        label_name: dataset.json name of label 1.
        mask_threshold: mask pixels >= this value are the object (see :class:`MaskRule`).
        mask_suffix: what a mask's stem adds to its image's stem; ``None`` detects it.
        test_fraction, test_list, seed: which cases go to imagesTs/labelsTs
            (see :func:`~samseg.conversion.image_pairs.split_test_cases`).

    Raises:
        SamsegInputError: bad arguments, an existing dataset folder or id, unmatched images or
            masks, unreadable photos, or a mask whose size differs from its image's.
    """
    if not 1 <= mask_threshold <= 255:
        raise SamsegInputError(f"--mask-threshold: expected 1..255, found {mask_threshold}")
    if not label_name.strip() or label_name.strip() == "background":
        raise SamsegInputError(
            f"--label-name: expected the object's name (not 'background'), found {label_name!r}"
        )
    folder = dataset_folder(output_root, dataset_id, name)
    _refuse_existing(folder, dataset_id)
    pairs = pair_images_and_masks(Path(images_folder), Path(masks_folder), mask_suffix=mask_suffix)
    test_cases = split_test_cases(
        [p.case for p in pairs],
        test_fraction=test_fraction,
        test_list=None if test_list is None else Path(test_list),
        seed=seed,
    )
    provenance = {
        "tool": TOOL,
        "images": str(Path(images_folder).resolve()),
        "masks": str(Path(masks_folder).resolve()),
        "mask_threshold": mask_threshold,
        "seed": seed,
        "test_cases": sorted(test_cases),
    }
    owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    temporary = folder.parent / f".{owner}{PARTIAL_MARKER}{folder.name}"
    try:
        _write_cases(pairs, temporary, test_cases, MaskRule(mask_threshold), progress)
        num_training = len(pairs) - len(test_cases)
        description = DatasetDescription(
            channel_names=CHANNEL_NAMES,
            labels=LabelScheme(names={"background": 0, label_name.strip(): 1}),
            file_ending=FILE_ENDING,
            num_training=num_training,
            extra={
                "name": name,
                "description": f"photos and binary masks converted by {TOOL}",
                PROVENANCE_KEY: provenance,
            },
        )
        write_json(description.to_json(), temporary / "dataset.json")
        _refuse_existing(folder, dataset_id)
        os.rename(temporary, folder)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return ConversionReport(
        dataset_folder=folder,
        written=tuple(p.case for p in pairs),
        skipped=(),
        missing=(),
        removed=(),
        num_training=num_training,
        num_test=len(test_cases),
    )


def _refuse_existing(folder: Path, dataset_id: int) -> None:
    """Raise when ``folder`` or another dataset with ``dataset_id`` exists beside it."""
    if folder.exists():
        raise SamsegInputError(
            f"{folder}: expected no dataset folder there (it is never overwritten), found one; "
            "remove it or choose another dataset id or name"
        )
    if folder.parent.is_dir():
        for other in sorted(folder.parent.iterdir()):
            match = DATASET_FOLDER.match(other.name)
            if match and int(match.group(1)) == dataset_id:
                raise SamsegInputError(
                    f"{folder}: expected dataset id {dataset_id:03d} to be free, found {other}; "
                    "choose another dataset id"
                )


def _write_cases(
    pairs: list[ImageMaskPair],
    folder: Path,
    test_cases: set[str],
    rule: MaskRule,
    progress: bool,
) -> None:
    """Write every pair as ``images{Tr,Ts}/CASE_0000.png`` and ``labels{Tr,Ts}/CASE.png``."""
    io = NaturalImage2DIO()
    for pair in tqdm(pairs, desc="photos -> dataset", unit="case", disable=not progress):
        image = read_photo_pixels(pair.image)
        mask = read_photo_pixels(pair.mask, palette_indices=True)
        if mask.shape[:2] != image.shape[:2]:
            raise SamsegInputError(
                f"{pair.mask}: expected the size of its image {pair.image.name}, "
                f"{image.shape[:2]} (height, width), found {mask.shape[:2]}"
            )
        rgb = np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image
        split = "Ts" if pair.case in test_cases else "Tr"
        io.write_photo(
            rgb.transpose(2, 0, 1)[:, None], folder / f"images{split}" / f"{pair.case}_0000.png"
        )
        label = rule.binary_label(mask)
        io.write_segmentation(
            label[None], folder / f"labels{split}" / f"{pair.case}{FILE_ENDING}", PHOTO_GEOMETRY
        )
