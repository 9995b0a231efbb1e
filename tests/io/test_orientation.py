"""Axis codes and reorientation: every one of the 48 axis permutation/flip combinations maps
arrays and geometry exactly and reversibly, and agrees with SimpleITK and nibabel."""

from __future__ import annotations

import itertools

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from samseg.errors import SamsegInputError
from samseg.io.geometry import ImageGeometry
from samseg.io.orientation import (
    AXIS_LETTERS,
    Reorientation,
    axis_codes,
    check_axis_codes,
    majority_orientation,
)

ALL_CODES = [
    "".join(AXIS_LETTERS[world][sign] for world, sign in zip(permutation, signs, strict=True))
    for permutation in itertools.permutations(range(3))
    for signs in itertools.product((0, 1), repeat=3)
]
SHAPE = (3, 4, 5)
SPACING = (2.5, 0.7, 0.9)
ORIGIN = (1.5, -30.25, 7.125)


def direction_of(codes: str) -> tuple[float, ...]:
    """The row-major LPS direction whose index axes point along ``codes``."""
    matrix = np.zeros((3, 3))
    for index, letter in enumerate(codes):
        world = next(w for w, pair in enumerate(AXIS_LETTERS) if letter in pair)
        matrix[world, index] = 1.0 if letter == AXIS_LETTERS[world][0] else -1.0
    return tuple(matrix.ravel())


def rotated(codes: str, degrees: float) -> tuple[float, ...]:
    """``direction_of(codes)`` rotated about the world S axis by ``degrees`` (oblique)."""
    angle = np.deg2rad(degrees)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    return tuple((rotation @ np.reshape(direction_of(codes), (3, 3))).ravel())


def world_positions(geometry: ImageGeometry, shape) -> np.ndarray:
    """(z, y, x, 3) LPS world position of every voxel, mm."""
    zyx = np.stack(np.meshgrid(*map(np.arange, shape), indexing="ij"), axis=-1)
    steps = zyx[..., ::-1] * np.asarray(geometry.spacing[::-1])
    return np.asarray(geometry.origin) + steps @ geometry.direction_matrix.T


def test_48_codes_are_distinct_and_match_nibabel():
    assert len(set(ALL_CODES)) == 48
    for codes in ALL_CODES:
        assert axis_codes(direction_of(codes)) == codes
        ras_affine = np.eye(4)
        ras_affine[:3, :3] = np.diag([-1.0, -1.0, 1.0]) @ np.reshape(direction_of(codes), (3, 3))
        assert "".join(nib.orientations.aff2axcodes(ras_affine)) == codes
    assert axis_codes((1, 0, 0, 0, 1, 0, 0, 0, 1)) == "LPS"


@pytest.mark.parametrize(("codes", "degrees", "nearest"), [("LPS", 20, "LPS"), ("LPS", 70, "PRS")])
def test_oblique_directions_map_to_the_nearest_axes(codes, degrees, nearest):
    direction = rotated(codes, degrees)
    assert axis_codes(direction) == nearest
    ras_affine = np.eye(4)
    ras_affine[:3, :3] = np.diag([-1.0, -1.0, 1.0]) @ np.reshape(direction, (3, 3))
    assert "".join(nib.orientations.aff2axcodes(ras_affine)) == nearest


@pytest.mark.parametrize("source", ["LPS", "RAS", "ASL", "IRP"])
def test_every_reorientation_keeps_world_positions_and_round_trips_exactly(source):
    rng = np.random.default_rng(0)
    array = rng.random((2, *SHAPE)).astype(np.float32)  # a leading channel axis rides along
    geometry = ImageGeometry(SPACING, ORIGIN, direction_of(source))
    positions = world_positions(geometry, SHAPE)
    for target in ALL_CODES:
        reorientation = Reorientation.between(source, target)
        moved = reorientation.apply(array)
        moved_geometry = reorientation.apply_to_geometry(geometry, SHAPE)
        assert axis_codes(moved_geometry.direction) == target
        assert moved.shape[1:] == reorientation.shape(SHAPE)
        # each voxel value sits at the same world position as before
        moved_positions = world_positions(moved_geometry, moved.shape[1:])
        np.testing.assert_allclose(
            reorientation.apply(np.moveaxis(positions, -1, 0)),
            np.moveaxis(moved_positions, -1, 0),
            atol=1e-9,
        )
        # and the inverse restores the very array and the geometry
        np.testing.assert_array_equal(reorientation.undo(moved), array)
        back = reorientation.inverse().apply_to_geometry(moved_geometry, moved.shape[1:])
        assert back.spacing == geometry.spacing
        assert back.direction == geometry.direction
        np.testing.assert_allclose(back.origin, geometry.origin, rtol=0, atol=1e-12)
        assert Reorientation.from_json(reorientation.to_json()) == reorientation


@pytest.mark.parametrize(
    "direction", [direction_of("RAS"), rotated("ASL", 25)], ids=["RAS", "oblique"]
)
def test_reorientation_agrees_with_simpleitk_dicom_orient(direction):
    array = np.arange(np.prod(SHAPE), dtype=np.int16).reshape(SHAPE)
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(SPACING[::-1])
    image.SetOrigin(ORIGIN)
    image.SetDirection(direction)
    geometry = ImageGeometry(SPACING, ORIGIN, direction)
    source = axis_codes(direction)
    for target in ALL_CODES:
        reference = sitk.DICOMOrient(image, target)
        reorientation = Reorientation.between(source, target)
        np.testing.assert_array_equal(
            reorientation.apply(array), sitk.GetArrayFromImage(reference)
        )
        moved = reorientation.apply_to_geometry(geometry, SHAPE)
        np.testing.assert_allclose(moved.spacing, reference.GetSpacing()[::-1], rtol=1e-12)
        np.testing.assert_allclose(moved.origin, reference.GetOrigin(), atol=1e-9)
        np.testing.assert_allclose(moved.direction, reference.GetDirection(), atol=1e-12)


def test_identity_returns_the_array_itself_and_others_a_contiguous_copy():
    array = np.zeros(SHAPE)
    assert Reorientation.between("LPS", "LPS").is_identity
    assert Reorientation.between("LPS", "LPS").apply(array) is array
    moved = Reorientation.between("LPS", "SPL").apply(array)
    assert moved.flags.c_contiguous and not np.shares_memory(moved, array)


def test_axis_codes_are_validated_and_the_majority_wins():
    assert check_axis_codes("RAS", "plans.json") == "RAS"
    for bad in ("RAR", "LP", "XYZ", 3, None):
        with pytest.raises(SamsegInputError, match=r"plans\.json: expected orientation axis codes"):
            check_axis_codes(bad, "plans.json")
    assert majority_orientation(["RAS", "LPS", "LPS"]) == "LPS"
    assert majority_orientation(["RAS", "LPS"]) == "RAS"
