"""The oracle pipeline is exact on the real CT and MR of ../shared/data (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from samseg.inference import SlicePredictor
from samseg.io import SimpleITKIO
from samseg.preprocessing import preprocess_case
from tests.inference.helpers import OracleNetwork, make_description, make_plans, write_image

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
ABDOMEN_CT = SHARED / "Dataset901_AbdomenCTExample"
MR = SHARED / "mr_example"
CASES = {
    "ct": (
        ABDOMEN_CT / "imagesTr" / "abd_001_0000.nii.gz",
        ABDOMEN_CT / "labelsTr" / "abd_001.nii.gz",
        "CT",
    ),
    "mr": (MR / "mr_0000.nii.gz", MR / "mr_totalseg_mr_labels.nii.gz", "MR"),
}


@pytest.mark.parametrize(("handling", "input_size"), [("resize", 256), ("sliding_window", 64)])
@pytest.mark.parametrize("case", sorted(CASES))
def test_oracle_is_exact_on_real_data(tmp_path, case, handling, input_size):
    image_path, label_path, modality = CASES[case]
    if not image_path.is_file():
        pytest.skip(f"{image_path} absent")
    reader = SimpleITKIO()
    label, geometry = reader.read_segmentation(label_path)
    values, consecutive = np.unique(label[0], return_inverse=True)
    consecutive = consecutive.reshape(label[0].shape).astype(np.uint8)
    label_file = write_image(
        tmp_path / "label.nii.gz",
        consecutive,
        geometry.spacing,
        geometry.direction,
        geometry.origin,
    )
    plans = make_plans(
        input_size=input_size,
        large_slice_handling=handling,
        target_spacing=geometry.spacing,
        num_labels=len(values) - 1,
        channels=(modality,),
    )
    reference = preprocess_case([image_path], label_file, plans, reader)
    oracle = OracleNetwork(
        {image_path.name: reference.label[0]}, len(values), input_size, context=1
    )
    predictor = SlicePredictor(
        [oracle],
        plans,
        f"2d_{input_size}",
        make_description(plans, (modality,)),
        use_mirroring=False,
        show_progress=False,
        batch_size=16,
    )
    [output] = predictor.predict_to_files({"case": [image_path]}, tmp_path / "out")
    prediction, written_geometry = reader.read_segmentation(output)
    np.testing.assert_array_equal(prediction[0], consecutive)
    assert written_geometry == geometry
