"""PartAwareAdaptor with a recording stub network: the chain's calls, retrieval and its ties."""

from __future__ import annotations

import pytest
import torch

from samseg.adaptation import AdaptorSettings, PartAwareAdaptor, ReferenceFeatures
from samseg.adaptation import adaptor as adaptor_module
from samseg.adaptation.retrieval import Distance
from samseg.adaptation.similarity import similarity_maps
from samseg.models import PromptedMasks, build_sam

GRID, SIZE = 4, 16


class RecordingNetwork:
    """Answers every prompt with a fixed square (rows/columns 4..11) and records the calls."""

    input_size = SIZE

    def __init__(self) -> None:
        self.calls: list[dict] = []
        square = torch.full((1, 1, SIZE, SIZE), -5.0)
        square[..., 4:12, 4:12] = 5.0
        self.logits = square

    def upscale_logits(self, low_res_logits: torch.Tensor) -> torch.Tensor:
        return low_res_logits

    def predict_with_prompts(self, embeddings, points=None, boxes=None, mask_inputs=None, **_):
        self.calls.append(
            {
                "points": None if points is None else points[0][0].tolist(),
                "labels": None if points is None else points[1][0].tolist(),
                "box": None if boxes is None else boxes[0].tolist(),
                "mask": mask_inputs is not None,
            }
        )
        return PromptedMasks(self.logits.clone(), torch.tensor([[0.5]]))


def features() -> tuple[ReferenceFeatures, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    embedding = torch.randn(256, GRID, GRID, generator=generator)
    foreground = torch.zeros(GRID, GRID, dtype=torch.bool)
    foreground[1:3, 1:3] = True
    valid = torch.ones(GRID, GRID, dtype=torch.bool)
    target = torch.randn(256, GRID, GRID, generator=generator)
    return ReferenceFeatures.from_embedding(embedding, foreground, valid), target


def test_the_points_chain_is_three_calls_ending_with_the_masks_box() -> None:
    network = RecordingNetwork()
    reference, target = features()
    settings = AdaptorSettings(mode="fixed", positive_parts=(2, 2), negative_parts=(1, 1))
    result = PartAwareAdaptor(network, reference, settings).segment(target, torch.ones(16, 16) > 0)
    first, second, third = network.calls
    assert first["labels"] == [1, 1, 0] and not first["mask"] and first["box"] is None
    assert second["mask"] and second["box"] is None and second["points"] == first["points"]
    assert third["box"] == [4.0, 4.0, 11.0, 11.0] and third["mask"]
    (candidate,) = result.candidates
    assert (candidate.positives, candidate.negatives, candidate.distance) == (2, 1, None)
    assert candidate.points == first["points"]


def test_persam_mode_puts_its_one_negative_at_the_minimum_of_the_positive_map() -> None:
    network = RecordingNetwork()
    reference, target = features()
    maps = similarity_maps(reference.prototypes("foreground", 1), target, SIZE)[0]
    PartAwareAdaptor(network, reference, AdaptorSettings(mode="persam")).segment(
        target, torch.ones(SIZE, SIZE) > 0
    )
    (x, y), label = network.calls[0]["points"][1], network.calls[0]["labels"][1]
    assert label == 0
    assert maps[int(y), int(x)] == maps.min()


@pytest.mark.parametrize(("values", "chosen"), [([3.0, 1.0, 2.0], 1), ([2.0, 2.0, 2.0], 0)])
def test_retrieval_takes_the_smallest_distance_and_ties_go_to_fewer_parts(
    monkeypatch, values, chosen
) -> None:
    scores = iter(values)
    monkeypatch.setattr(
        adaptor_module, "wasserstein_distance", lambda *_: Distance(next(scores), 4, None)
    )
    network = RecordingNetwork()
    reference, target = features()
    settings = AdaptorSettings(positive_parts=(1, 3), negative_parts=(1, 1))
    result = PartAwareAdaptor(network, reference, settings).segment(target, torch.ones(16, 16) > 0)
    assert [c.positives for c in result.candidates] == [1, 2, 3]
    assert result.chosen == chosen
    assert [c.distance.value for c in result.candidates] == values


def test_counts_above_the_references_tokens_are_left_out() -> None:
    reference, _ = features()  # 4 foreground tokens
    settings = AdaptorSettings(positive_parts=(3, 6), negative_parts=(1, 1))
    adaptor = PartAwareAdaptor(RecordingNetwork(), reference, settings)
    assert adaptor.candidate_counts == [(3, 1), (4, 1)]


def test_the_box_prompt_type_starts_from_the_high_similarity_region() -> None:
    network = RecordingNetwork()
    reference, target = features()
    settings = AdaptorSettings(mode="fixed", positive_parts=(1, 1), prompt_type="box")
    result = PartAwareAdaptor(network, reference, settings).segment(target, torch.ones(16, 16) > 0)
    first = network.calls[0]
    assert first["points"] is None and first["box"] is not None
    assert result.candidates[0].box == first["box"]
    assert network.calls[2]["box"] == [4.0, 4.0, 11.0, 11.0]
    retrieval = AdaptorSettings(positive_parts=(1, 2), negative_parts=(0, 2), prompt_type="box")
    assert PartAwareAdaptor(network, reference, retrieval).candidate_counts == [(1, 0), (2, 0)]


def test_each_retrieval_candidate_is_the_fixed_mode_of_its_counts() -> None:
    torch.manual_seed(0)
    network = build_sam("vit_tiny", 64, None, num_classes=2, precision="fp32").eval()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        reference_embedding, target = network.encode(
            torch.rand(2, 3, 64, 64, generator=generator) * 255
        ).image_embeddings
    grid = reference_embedding.shape[-1]
    foreground = torch.zeros(grid, grid, dtype=torch.bool)
    foreground[:, : grid // 2] = True
    reference = ReferenceFeatures.from_embedding(
        reference_embedding, foreground, torch.ones(grid, grid, dtype=torch.bool)
    )
    valid = torch.ones(64, 64, dtype=torch.bool)
    retrieval = AdaptorSettings(positive_parts=(1, 3), negative_parts=(1, 1))
    result = PartAwareAdaptor(network, reference, retrieval).segment(target, valid)
    assert len(result.candidate_logits) == 3
    assert torch.equal(result.low_res_logits, result.candidate_logits[result.chosen])
    for candidate, logits in zip(result.candidates, result.candidate_logits, strict=True):
        counts = (candidate.positives, candidate.positives)
        fixed = AdaptorSettings(mode="fixed", positive_parts=counts, negative_parts=(1, 1))
        alone = PartAwareAdaptor(network, reference, fixed).segment(target, valid)
        assert torch.equal(alone.low_res_logits, logits)
    assert not torch.equal(result.candidate_logits[0], result.candidate_logits[2])
