"""Match the photos of an images/ folder with the masks of a masks/ folder, and split them.

Images and masks are matched by file stem: a mask is named like its image, or like its image
plus a suffix common to every mask (ISIC's ``<id>_segmentation.png``), given or detected.
Case names are the image stems with every character other than letters, digits, ``_`` and
``-`` replaced by ``_``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from samseg.errors import SamsegInputError
from samseg.io import NaturalImage2DIO

PHOTO_ENDINGS = NaturalImage2DIO.supported_file_endings
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class ImageMaskPair:
    """One photo and its mask, under the case name they will have in the dataset."""

    case: str
    image: Path
    mask: Path


def pair_images_and_masks(
    images_folder: Path, masks_folder: Path, *, mask_suffix: str | None = None
) -> list[ImageMaskPair]:
    """Every photo of ``images_folder`` with its mask, sorted by case name.

    Args:
        mask_suffix: what a mask's stem adds to its image's stem (``"_segmentation"``);
            ``None`` detects it: no suffix when the stems are equal, else the one suffix that
            matches the most masks.

    Raises:
        SamsegInputError: a folder without photos, two photos with one stem, an image
            without a mask, a mask without an image, or two case names that collide.
    """
    images = _photos_by_stem(images_folder, "images")
    masks = _photos_by_stem(masks_folder, "masks")
    suffix = _detect_suffix(images, masks) if mask_suffix is None else mask_suffix
    for stem, image in images.items():
        if stem + suffix not in masks:
            raise SamsegInputError(
                f"{image}: expected its mask {masks_folder / (stem + suffix)}.<png|jpg|bmp> "
                f"(mask suffix {suffix!r}), found no such file"
            )
    for stem, mask in masks.items():
        if not stem.endswith(suffix) or stem[: len(stem) - len(suffix)] not in images:
            raise SamsegInputError(
                f"{mask}: expected an image named like this mask without the suffix "
                f"{suffix!r} in {images_folder}, found none"
            )
    pairs: dict[str, ImageMaskPair] = {}
    for stem in sorted(images):
        case = _UNSAFE.sub("_", stem)
        if case in pairs:
            raise SamsegInputError(
                f"{images[stem]}: expected a case name of its own, found {case!r}, the name of "
                f"{pairs[case].image.name} too (characters other than letters, digits, '_' "
                "and '-' become '_'); rename one of them"
            )
        pairs[case] = ImageMaskPair(case, images[stem], masks[stem + suffix])
    return [pairs[case] for case in sorted(pairs)]


def split_test_cases(
    cases: Sequence[str],
    *,
    test_fraction: float = 0.0,
    test_list: Path | None = None,
    seed: int = 0,
) -> set[str]:
    """The cases held out for testing: those ``test_list`` names (one image stem or case name
    per line), or ``round(test_fraction * n)`` drawn with ``seed``."""
    if test_list is not None:
        wanted = [line.strip() for line in test_list.read_text().splitlines() if line.strip()]
        names = {_UNSAFE.sub("_", name) for name in wanted}
        unknown = sorted(names - set(cases))
        if unknown:
            raise SamsegInputError(
                f"{test_list}: expected names of images in the input, found {unknown[0]!r}"
                + (f" and {len(unknown) - 1} more" if len(unknown) > 1 else "")
            )
        return names
    if not 0.0 <= test_fraction < 1.0:
        raise SamsegInputError(f"--test-fraction: expected 0 <= F < 1, found {test_fraction}")
    count = round(test_fraction * len(cases))
    chosen = np.random.default_rng(seed).choice(len(cases), size=count, replace=False)
    return {cases[i] for i in chosen}


def _photos_by_stem(folder: Path, role: str) -> dict[str, Path]:
    """Stem -> path of every (non-hidden) photo file in ``folder``."""
    if not folder.is_dir():
        raise SamsegInputError(f"{folder}: expected a folder of {role}, found no such folder")
    found: dict[str, Path] = {}
    for name in sorted(os.listdir(folder)):
        path = folder / name
        if name.startswith(".") or not name.lower().endswith(PHOTO_ENDINGS) or path.is_dir():
            continue
        stem = path.stem
        if stem in found:
            raise SamsegInputError(
                f"{path}: expected one file per name among the {role}, found {found[stem].name} "
                "too"
            )
        found[stem] = path
    if not found:
        raise SamsegInputError(
            f"{folder}: expected {role} ending in one of {list(PHOTO_ENDINGS)}, found none"
        )
    return found


def _detect_suffix(images: dict[str, Path], masks: dict[str, Path]) -> str:
    """``""`` when some mask has an image's stem, else the suffix after an image's stem that
    the most masks share."""
    if images.keys() & masks.keys():
        return ""
    counts: Counter[str] = Counter()
    for mask in masks:
        counts.update(
            {mask[len(image) :] for image in images if mask.startswith(image) and mask != image}
        )
    return counts.most_common(1)[0][0] if counts else ""
