"""SlicePrompter: SAM prompts on one preprocessed slice, in the slice's pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from samseg.errors import SamsegInputError
from samseg.inference.slice_prompting import SlicePrompter
from samseg.models import build_sam
from samseg.prompting import PromptMode, decode_prompt_mode, farthest_interior_point
from samseg.slices import sam_input_slices
from tests.inference.helpers import make_plans, write_image
from tests.inference.prompt_stubs import RegionStub, nonzero_image


class RecordingStub(RegionStub):
    """RegionStub that keeps the prompts of every decoder call."""

    def __init__(self, input_size: int) -> None:
        super().__init__(input_size)
        self.calls: list[tuple] = []

    def predict_with_prompts(self, embeddings, points=None, boxes=None, mask_inputs=None, **kw):
        self.calls.append((points, boxes, mask_inputs))
        return super().predict_with_prompts(embeddings, points, boxes, mask_inputs, **kw)


def prompter_and_case(tmp_path, network, side: int = 32):
    plans = make_plans(input_size=network.input_size)
    path = write_image(tmp_path / "case_0000.nii.gz", nonzero_image((3, side, side)), (3, 0.8, 0.8))
    prompter = SlicePrompter(network, plans, f"2d_{network.input_size}")
    return prompter, prompter.preprocess([path]), path


def test_a_point_makes_the_same_sam_call_as_the_sessions_network_frame_point(tmp_path):
    torch.manual_seed(0)
    network = build_sam("vit_tiny", 32, None, num_classes=2)
    prompter, case, _ = prompter_and_case(tmp_path, network)
    target = np.zeros((32, 32), dtype=bool)
    target[5:20, 8:30] = True
    x, y = farthest_interior_point(target)
    result = prompter.prompt(case, 1, points=[(x, y, 1)])
    with torch.inference_mode():
        image = torch.from_numpy(sam_input_slices(case.data, [1], 1))
        embedding = network.encode(image).image_embeddings
        [expected] = decode_prompt_mode(network, embedding, target[None], PromptMode("point"))
    torch.testing.assert_close(result.low_res_logits, expected, rtol=0, atol=0)
    upscaled = network.upscale_logits(expected)[0, 0].numpy()
    np.testing.assert_array_equal(result.mask, upscaled > 0)


def test_slice_pixels_map_to_pixel_centres_of_the_resized_slice(tmp_path):
    stub = RecordingStub(32)
    prompter, case, _ = prompter_and_case(tmp_path, stub, side=64)
    result = prompter.prompt(case, 0, points=[(10, 21, 1), (0, 63, 0)], box=(2, 4, 61, 59))
    assert result.mask.shape == result.logits.shape == (64, 64)
    (coords, labels), box, _ = stub.calls[-1]
    np.testing.assert_allclose(coords[0].numpy(), [[4.75, 10.25], [-0.25, 31.25]])
    assert labels.tolist() == [[1, 0]]
    np.testing.assert_allclose(box.numpy(), [[0.75, 1.75, 30.25, 29.25]])


def test_box_answer_comes_back_in_the_slice_pixels(tmp_path):
    prompter, case, _ = prompter_and_case(tmp_path, RegionStub(32))
    result = prompter.prompt(case, 2, box=(3, 5, 20, 11))
    expected = np.zeros((32, 32), dtype=bool)
    expected[5:12, 3:21] = True
    np.testing.assert_array_equal(result.mask, expected)
    assert result.logits.shape == (32, 32) and result.iou == 1.0


def test_the_slice_embedding_is_cached_and_the_mask_fed_back(tmp_path):
    stub = RecordingStub(32)
    prompter, case, _ = prompter_and_case(tmp_path, stub)
    first = prompter.prompt(case, 1, points=[(10, 10, 1)])
    prompter.prompt(case, 1, points=[(10, 10, 1), (20, 20, 0)], mask=first.low_res_logits)
    assert stub.encoded == 1
    assert torch.equal(stub.calls[-1][2], first.low_res_logits)
    prompter.prompt(case, 2, points=[(10, 10, 1)])
    assert stub.encoded == 2


@pytest.mark.parametrize(
    ("prompts", "match"),
    [
        ({"points": [(32, 3, 1)]}, r"x in 0\.\.31 .* found \(32, 3\)"),
        ({"points": [(3, -1, 1)]}, r"found \(3, -1\)"),
        ({"points": [(3, 3, 2)]}, "labels 0 or 1"),
        ({"box": (3, 3, 40, 9)}, "box corner"),
        ({"box": (9, 3, 3, 9)}, "x0 <= x1"),
        ({}, "points, a box or a mask"),
        ({"points": [(3, 3, 1)], "mask": torch.zeros(1, 1, 4, 4)}, r"\(1, 1, 32, 32\)"),
    ],
)
def test_bad_prompts_are_one_line_errors_naming_the_image(tmp_path, prompts, match):
    prompter, case, path = prompter_and_case(tmp_path, RegionStub(32))
    with pytest.raises(SamsegInputError, match=match) as error:
        prompter.prompt(case, 0, **prompts)
    assert str(error.value).startswith(path.name) and "\n" not in str(error.value)


def test_a_slice_outside_the_volume_is_refused(tmp_path):
    prompter, case, _ = prompter_and_case(tmp_path, RegionStub(32))
    with pytest.raises(SamsegInputError, match=r"slice index in 0\.\.2, found 3"):
        prompter.prompt(case, 3, points=[(1, 1, 1)])
