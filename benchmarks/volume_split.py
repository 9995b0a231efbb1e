"""Cut one labelled volume along its slice axis into training volumes and a held-out slab.

Benchmarks of the low-data regime (one labelled scan) train on part of a scan and test on the
rest. The pieces are crops: every voxel keeps its value, spacing and direction, and each
piece's origin is the physical position of its first voxel, so a piece lies exactly where it
lay in the scan and a prediction on it can be compared with the scan's own label.

"Slices" here are the first axis of the numpy array SimpleITK returns (z, y, x), that is
ITK's last index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import SimpleITK as sitk


@dataclass(frozen=True)
class SlabSplit:
    """Where a scan of ``num_slices`` slices is cut: slab ``[start, stop)`` is held out, the
    slices before it and after it become one training piece each (an empty side gives none).

    Args:
        start: first held-out slice (numpy axis 0).
        stop: one past the last held-out slice.
    """

    start: int
    stop: int

    @classmethod
    def centred(cls, centre: int, width: int) -> SlabSplit:
        """The slab of ``width`` slices whose middle slice is ``centre``."""
        start = centre - width // 2
        return cls(start=start, stop=start + width)

    def training_pieces(self, num_slices: int) -> dict[str, tuple[int, int]]:
        """The ``[start, stop)`` slice ranges of the non-empty training pieces: ``lo`` before
        the slab, ``hi`` after it.

        Raises:
            ValueError: the slab does not lie inside ``[0, num_slices)`` or is empty.
        """
        if not 0 <= self.start < self.stop <= num_slices:
            raise ValueError(
                f"slab [{self.start}, {self.stop}): expected 0 <= start < stop <= {num_slices}"
            )
        sides = {"lo": (0, self.start), "hi": (self.stop, num_slices)}
        return {name: (a, b) for name, (a, b) in sides.items() if b > a}


def crop_slices(image: sitk.Image, start: int, stop: int) -> sitk.Image:
    """Slices ``[start, stop)`` of a 3D image (numpy axis 0, ITK's last index), geometry kept:
    same spacing and direction, origin at the physical point of the first kept voxel."""
    if image.GetDimension() != 3:
        raise ValueError(f"crop_slices: expected a 3D image, found {image.GetDimension()}D")
    size = list(image.GetSize())
    if not 0 <= start < stop <= size[2]:
        raise ValueError(f"crop_slices: expected 0 <= {start} < {stop} <= {size[2]} slices")
    return sitk.RegionOfInterest(image, [size[0], size[1], stop - start], [0, 0, start])


def write_split_dataset(
    source: Path,
    case: str,
    split: SlabSplit,
    target: Path,
    *,
    description: str,
) -> dict[str, list[str]]:
    """Write a raw dataset (nnU-Net v2 layout) at ``target`` from one case of ``source``.

    ``imagesTr``/``labelsTr`` get one case per training piece (``CASE_lo``, ``CASE_hi``: the
    slices before and after the slab), ``imagesTs``/``labelsTs`` the slab (``CASE_slab``).
    dataset.json is ``source``'s with ``numTraining`` and ``description`` replaced. Files are
    new; ``target`` must not exist (nothing is overwritten).

    Args:
        source: raw dataset folder (``dataset.json``, ``imagesTr/CASE_0000<ending>``, ...).
        case: case identifier in ``source``.
        split: the held-out slab.
        target: new dataset folder (``DatasetXXX_Name``).
        description: dataset.json description of the new dataset.

    Returns:
        ``{"train": [case ids], "test": [case id]}``.
    """
    if target.exists():
        raise FileExistsError(f"{target}: expected a new folder, found an existing one")
    dataset = json.loads((source / "dataset.json").read_text())
    ending = dataset["file_ending"]
    image = sitk.ReadImage(str(source / "imagesTr" / f"{case}_0000{ending}"))
    label = sitk.ReadImage(str(source / "labelsTr" / f"{case}{ending}"))
    if image.GetSize() != label.GetSize():
        raise ValueError(
            f"{source}/{case}: image size {image.GetSize()} != label size {label.GetSize()}"
        )
    pieces = split.training_pieces(image.GetSize()[2])
    plan = {
        **{(f"{case}_{name}", "Tr"): bounds for name, bounds in pieces.items()},
        (f"{case}_slab", "Ts"): (split.start, split.stop),
    }
    for folder in ("imagesTr", "labelsTr", "imagesTs", "labelsTs"):
        (target / folder).mkdir(parents=True)
    for (identifier, part), (start, stop) in plan.items():
        sitk.WriteImage(
            crop_slices(image, start, stop),
            str(target / f"images{part}" / f"{identifier}_0000{ending}"),
            useCompression=True,
        )
        sitk.WriteImage(
            crop_slices(label, start, stop),
            str(target / f"labels{part}" / f"{identifier}{ending}"),
            useCompression=True,
        )
    dataset.update(numTraining=len(pieces), description=description, name=target.name[11:])
    (target / "dataset.json").write_text(json.dumps(dataset, indent=2))
    return {
        "train": [ident for ident, part in plan if part == "Tr"],
        "test": [ident for ident, part in plan if part == "Ts"],
    }
