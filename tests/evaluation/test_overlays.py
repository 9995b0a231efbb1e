"""Overlays in radiological convention: views from direction cosines, PNG content read back."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from matplotlib.image import imread
from scipy import ndimage

from samseg.evaluation import EvaluationLabels, evaluate_folders
from samseg.evaluation.overlays import write_overlays
from samseg.evaluation.views import display_view
from tests.conftest import write_volume

LPS = (1, 0, 0, 0, 1, 0, 0, 0, 1)
RAS = (-1, 0, 0, 0, -1, 0, 0, 0, 1)
# In an LPS-stored (S, P, L) array: index 0 is inferior, posterior-most or right-most.
SUPERIOR_ANTERIOR_RIGHT = (4, 0, 0)
INFERIOR_POSTERIOR_LEFT = (0, 5, 6)


def marker_volume() -> sitk.Image:
    """(z, y, x) = (5, 6, 7) LPS-stored volume with two marker voxels, valued 1 and 2."""
    array = np.zeros((5, 6, 7), np.uint8)
    array[SUPERIOR_ANTERIOR_RIGHT] = 1
    array[INFERIOR_POSTERIOR_LEFT] = 2
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((0.5, 0.7, 2.0))
    return image


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_every_storage_of_a_volume_gives_the_radiological_view(order):
    """All 48 axis orders and flips: markers land where radiological convention puts them."""
    for flips in itertools.product((False, True), repeat=3):
        stored = sitk.Flip(sitk.PermuteAxes(marker_volume(), order), flips)
        array = sitk.GetArrayFromImage(stored)
        spacing = tuple(reversed(stored.GetSpacing()))
        view = display_view(stored.GetDirection(), spacing)
        turned = view.apply(array)
        first = tuple(int(i) for i in np.argwhere(turned == 1)[0])
        second = tuple(int(i) for i in np.argwhere(turned == 2)[0])
        # the file's slice axis (ITK index axis 2) holds world axis order[2]: 0 = L, 1 = P, 2 = S
        plane = {2: "axial", 1: "coronal", 0: "sagittal"}[order[2]]
        assert view.plane == plane
        rows, columns = turned.shape[1:]
        # axial: right on the left, anterior up; coronal: right on the left, superior up;
        # sagittal: anterior on the left, superior up. The first marker is superior,
        # anterior and right, so it is at the top left in every plane.
        assert first[1:] == (0, 0) and second[1:] == (rows - 1, columns - 1)
        assert (first[0], second[0]) == {"axial": (4, 0), "coronal": (0, 5), "sagittal": (0, 6)}[
            plane
        ]
        physical = {"axial": (2.0, 0.7, 0.5), "coronal": (0.7, 2.0, 0.5)}
        assert view.spacing == physical.get(plane, (0.5, 2.0, 0.7))
        # the title's slice index is the file's own
        file_index = int(np.argwhere(array == 1)[0][0])
        assert view.file_slice(first[0], len(turned)) == file_index


def organ_volumes() -> tuple[np.ndarray, np.ndarray]:
    """LPS-stored (3, 40, 40) reference and prediction, one organ each, in slice 1 only.

    The reference is at the patient's right and anterior (low y and x in LPS), the prediction
    at the left and posterior.
    """
    reference = np.zeros((3, 40, 40), np.uint8)
    prediction = np.zeros_like(reference)
    reference[1, 4:14, 4:14] = 1
    prediction[1, 24:34, 24:34] = 1
    return reference, prediction


def coloured_box(pixels: np.ndarray, colour: str) -> tuple[float, float, float, float]:
    """(top, bottom, left, right) of the ``colour`` contour pixels, as fractions of the panel.

    The panel is the largest black region (the image area, no image given).
    """
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    black = (pixels[..., :3] < 0.05).all(axis=-1)
    regions, _ = ndimage.label(black)
    largest = np.argmax(np.bincount(regions.ravel())[1:]) + 1
    panel = ndimage.find_objects((regions == largest).astype(int))[0]
    inside = np.zeros_like(black)
    inside[panel] = True
    if colour == "lime":
        selected = (green > 0.5) & (red < 0.3) & (blue < 0.3) & inside
    else:
        selected = (red > 0.5) & (green < 0.3) & (blue < 0.3) & inside
    rows, columns = np.nonzero(selected)
    assert rows.size > 20, f"no {colour} contour drawn"
    height = panel[0].stop - panel[0].start
    width = panel[1].stop - panel[1].start
    return (
        (rows.min() - panel[0].start) / height,
        (rows.max() + 1 - panel[0].start) / height,
        (columns.min() - panel[1].start) / width,
        (columns.max() + 1 - panel[1].start) / width,
    )


@pytest.mark.parametrize("stored_as", ["LPS", "RAS"])
def test_contours_are_drawn_where_the_organs_are_in_radiological_convention(tmp_path, stored_as):
    reference, prediction = organ_volumes()
    direction = LPS
    if stored_as == "RAS":
        reference, prediction, direction = reference[:, ::-1, ::-1], prediction[:, ::-1, ::-1], RAS
    labels = EvaluationLabels.from_values([1])
    written = write_overlays(
        tmp_path, "case", None, reference, prediction, labels, (3.0, 1.0, 1.0), direction=direction
    )
    pixels = imread(written[0])
    # pixels 4..13 of 40: contour at 3.5 and 13.5 -> fractions 0.1 and 0.35 of the panel
    expected_reference = (0.1, 0.35, 0.1, 0.35)  # top left: anterior, patient's right
    expected_prediction = (0.6, 0.85, 0.6, 0.85)  # bottom right: posterior, patient's left
    assert coloured_box(pixels, "lime") == pytest.approx(expected_reference, abs=0.03)
    assert coloured_box(pixels, "red") == pytest.approx(expected_prediction, abs=0.03)


def test_the_same_case_stored_lps_and_ras_gives_identical_overlays(tmp_path):
    reference, prediction = organ_volumes()
    reference[1, 16:20, 30:36] = 2  # a second class, only in the reference
    image = np.random.default_rng(0).normal(0, 100, reference.shape).astype(np.int16)
    image[reference == 1] += 300
    image[:, :3, :] = 1000  # a bright band at the anterior edge: the image turns too
    for name, direction, flip in (("lps", LPS, False), ("ras", RAS, True)):
        volumes = {"ref": reference, "pred": prediction, "images": image}
        for folder, array in volumes.items():
            array = array[:, ::-1, ::-1] if flip else array
            file = "case_0000.nii.gz" if folder == "images" else "case.nii.gz"
            path = tmp_path / name / folder / file
            write_volume(path, np.ascontiguousarray(array), direction=direction)
        folder = tmp_path / name
        evaluate_folders(
            folder / "ref",
            folder / "pred",
            [1, 2],
            overlays_folder=folder / "overlays",
            image_folders=[folder / "images"],
        )
    names = sorted(p.name for p in (tmp_path / "lps" / "overlays").iterdir())
    assert names == ["case_label_1.png", "case_label_2.png"]
    for png in names:
        lps = imread(tmp_path / "lps" / "overlays" / png)
        ras = imread(tmp_path / "ras" / "overlays" / png)
        assert lps.shape == ras.shape and np.array_equal(lps, ras), png


REAL_CASE = Path("/work/shared/data/Dataset901_AbdomenCTExample")


@pytest.mark.skipif(not REAL_CASE.is_dir(), reason="real abdominal CT not available")
def test_real_data_liver_is_drawn_on_the_images_left_from_ras_and_lps_files(tmp_path):
    """The real CT is stored RAS; its LPS copy must give the same picture, liver on the left."""
    ras = sitk.ReadImage(str(REAL_CASE / "labelsTr" / "abd_001.nii.gz"))
    ras_image = sitk.ReadImage(str(REAL_CASE / "imagesTr" / "abd_001_0000.nii.gz"))
    assert ras.GetDirection() == RAS
    # the prediction: the reference moved 6 mm along y, the same side of the patient
    ras_prediction = sitk.GetImageFromArray(np.roll(sitk.GetArrayFromImage(ras), 2, axis=1))
    ras_prediction.CopyInformation(ras)
    labels = EvaluationLabels.from_values([5])  # liver, on the patient's right
    pictures = {}
    for name, files in (
        ("ras", (ras, ras_prediction, ras_image)),
        ("lps", tuple(sitk.DICOMOrient(f, "LPS") for f in (ras, ras_prediction, ras_image))),
    ):
        label, prediction_file, image = files
        reference = sitk.GetArrayFromImage(label)
        prediction = sitk.GetArrayFromImage(prediction_file)
        spacing = tuple(reversed(label.GetSpacing()))
        arguments = (labels, spacing)
        folder = tmp_path / name
        volume = sitk.GetArrayFromImage(image)
        direction = label.GetDirection()
        drawn = write_overlays(
            folder, "abd", volume, reference, prediction, *arguments, direction=direction
        )
        pictures[name] = imread(drawn[0])
        plain = write_overlays(
            folder / "plain",
            "abd",
            None,
            reference,
            prediction,
            *arguments,
            direction=direction,
            slices_per_class=1,
        )
        _, _, left, right = coloured_box(imread(plain[0]), "lime")
        assert left < 0.3 and (left + right) / 2 < 0.45, name  # mostly in the image's left half
    assert np.array_equal(pictures["ras"], pictures["lps"])
