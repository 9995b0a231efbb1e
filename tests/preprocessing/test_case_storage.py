"""blosc2 storage of preprocessed cases: round trip, lazy slice reads, crash safety."""

from __future__ import annotations

from pathlib import Path

import blosc2
import numpy as np
import pytest

from samseg.io import ImageGeometry, SimpleITKIO
from samseg.preprocessing import (
    CaseProperties,
    CropBox,
    PreprocessedCase,
    Provenance,
    load_case,
    preprocess_case,
    save_case,
    storage,
    stored_identifiers,
)
from tests.preprocessing.preprocessing_helpers import make_plans, synthetic_case, write_volume


@pytest.fixture
def case(tmp_path: Path) -> PreprocessedCase:
    image, label = synthetic_case(0)
    image_path = write_volume(image, tmp_path / "raw" / "case_0000.nii.gz", (3.0, 0.8, 0.6))
    label_path = write_volume(label, tmp_path / "raw" / "case.nii.gz", (3.0, 0.8, 0.6))
    return preprocess_case([image_path], label_path, make_plans(), SimpleITKIO())


def store(folder: Path, case: PreprocessedCase) -> None:
    save_case(folder, "case", case.data, case.label, case.properties)


def test_round_trip_is_exact(tmp_path: Path, case: PreprocessedCase) -> None:
    store(tmp_path / "out", case)

    stored = load_case(tmp_path / "out", "case")

    np.testing.assert_array_equal(stored.data[:], case.data)
    np.testing.assert_array_equal(stored.label[:], case.label)
    assert stored.data.dtype == np.float16 and stored.label.dtype == np.int8
    assert stored.properties == case.properties
    assert CaseProperties.from_json(case.properties.to_json()) == case.properties
    assert stored_identifiers(tmp_path / "out") == ["case"]


def test_float16_keeps_normalized_values_within_an_eighth(tmp_path: Path) -> None:
    values = np.linspace(0, 255, 4 * 9 * 11, dtype=np.float32).reshape(1, 4, 9, 11)
    label = np.zeros((1, 4, 9, 11), dtype=np.int16)
    label[0, 1, 2, 3] = 300

    save_case(tmp_path, "x", values, label, _properties(values.shape))
    stored = load_case(tmp_path, "x")

    np.testing.assert_allclose(stored.data[:], values, atol=0.0625)
    assert stored.label.dtype == np.int16 and stored.label[0, 1, 2, 3] == 300


def test_single_slices_are_read_lazily(tmp_path: Path, case: PreprocessedCase) -> None:
    store(tmp_path, case)

    stored = load_case(tmp_path, "case")

    assert isinstance(stored.data, blosc2.NDArray)
    assert stored.data.chunks == (1, 1, *case.data.shape[2:])
    np.testing.assert_array_equal(stored.data[:, 1:4], case.data[:, 1:4])
    np.testing.assert_array_equal(stored.label[0, 2], case.label[0, 2])


def test_crash_while_writing_leaves_no_final_file(
    tmp_path: Path, case: PreprocessedCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def crash_on_second_array(array: np.ndarray, **kwargs) -> None:
        calls.append(kwargs["urlpath"])
        Path(kwargs["urlpath"]).write_bytes(b"half written")
        if len(calls) == 2:
            raise OSError("disk full")

    monkeypatch.setattr(storage.blosc2, "asarray", crash_on_second_array)

    with pytest.raises(OSError, match="disk full"):
        store(tmp_path, case)

    assert all(name.endswith(".b2nd") for name in calls)
    assert list(tmp_path.iterdir()) == [tmp_path / "raw"]
    assert stored_identifiers(tmp_path) == []


def _properties(shape: tuple[int, ...]) -> CaseProperties:
    return CaseProperties(
        original_shape=shape[1:],
        geometry=ImageGeometry((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1)),
        crop_box=CropBox(tuple((0, n) for n in shape[1:])),
        shape_after_crop=shape[1:],
        transpose_forward=(0, 1, 2),
        shape_after_resampling=shape[1:],
        spacing_after_resampling=(1.0, 1.0, 1.0),
        class_slices={},
        provenance=Provenance(files=(), plans_hash="0"),
    )
