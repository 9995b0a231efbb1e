"""World positions of stored slices: the same voxels stored in any axis order give the same
positions; the non-zero crop is accounted for."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import SimpleITK as sitk

from samseg.io import SimpleITKIO
from samseg.preprocessing import preprocess_case
from samseg.preprocessing.slice_positions import slice_normal, stored_slice_positions
from tests.inference.helpers import make_plans

ORIGIN = (-20.0, 13.0, 40.0)
SPACING_XYZ = (0.8, 0.8, 3.0)


def write_case(folder, codes: str):
    """Slice k (k = 0..6) of the image holds value k + 1 except slice 0, which is zero (so the
    crop drops it); the label repeats the slice number. Stored in voxel order ``codes``."""
    volume = np.zeros((7, 12, 10), dtype=np.int16)
    for k in range(1, 7):
        volume[k] = k + 1
    paths = []
    for name, array in (("case_0000.nii.gz", volume), ("case.nii.gz", volume.astype(np.uint8))):
        image = sitk.GetImageFromArray(array)
        image.SetOrigin(ORIGIN)
        image.SetSpacing(SPACING_XYZ)
        image = sitk.DICOMOrient(image, codes)
        folder.mkdir(parents=True, exist_ok=True)
        sitk.WriteImage(image, str(folder / name))
        paths.append(folder / name)
    return paths


@pytest.mark.parametrize("codes", ["LPS", "RAI", "LIP"])
def test_stored_slices_lie_where_their_voxels_were(tmp_path, codes) -> None:
    image, label = write_case(tmp_path / codes, codes)
    # plans in LPS: every storage order is reoriented to axial slices
    plans = replace(make_plans(num_labels=8, target_spacing=(3.0, 0.8, 0.8)), orientation="LPS")
    case = preprocess_case([image], label, plans, SimpleITKIO())
    normal = np.array([0.0, 0.0, 1.0])
    positions = stored_slice_positions(case.properties, normal)
    values = [int(np.unique(case.label[0, s])[-1]) for s in range(case.label.shape[1])]
    # value v sat in the original slice v - 1, at world z = 40 + 3 (v - 1) (identity direction)
    expected = [ORIGIN[2] + 3.0 * (v - 1) for v in values]
    assert positions.tolist() == pytest.approx(expected)
    assert len(positions) == 6  # the empty slice 0 was cropped away
    assert abs(float(slice_normal(case.properties) @ normal)) == pytest.approx(1.0)


def test_slices_along_another_world_axis_share_their_z(tmp_path) -> None:
    image, label = write_case(tmp_path / "LIP", "LIP")  # no plans orientation: cut as stored
    case = preprocess_case([image], label, make_plans(num_labels=8), SimpleITKIO())
    along_z = stored_slice_positions(case.properties, np.array([0.0, 0.0, 1.0]))
    assert np.ptp(along_z) == 0  # coronal slices: every slice starts at the same height
    own = stored_slice_positions(case.properties)
    assert np.allclose(np.diff(own), 0.8)  # and steps 0.8 mm along their own normal
