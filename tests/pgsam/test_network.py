"""The PG-SAM network: the text prior reaches the logits, MLFF uses the level blocks, the
mask optimizer feeds its logits back, and a checkpoint rebuilds it without a text encoder."""

from __future__ import annotations

import pytest
import torch

from samseg.inference.model_loading import load_trained_network
from samseg.inference.network import as_slice_network
from samseg.inference.pgsam_heatmaps import HeatmapRecorder
from samseg.models.checkpoint_format import stamped_content
from samseg.models.pgsam import PGSAMNetworkSpec, PGSAMOptions, PGSAMSegmenter
from samseg.models.pgsam.heatmaps import write_heatmap_overlays
from samseg.models.pgsam.mask_optimizer import IterativeMaskOptimizer

NAMES = ("background", "box", "disc")


def tiny_network(guide: str = "classwise", iterations: int = 1) -> PGSAMSegmenter:
    torch.manual_seed(0)
    options = PGSAMOptions(
        class_names=NAMES, text_dim=16, guide=guide, level_blocks=(1,), iterations=iterations
    )
    spec = PGSAMNetworkSpec(model_type="vit_tiny", input_size=64, num_classes=3, pgsam=options)
    network = spec.build()
    network.precision = "fp32"
    network.text_prior.set_embeddings(torch.randn(3, 16))
    return network


def images(seed: int = 0) -> torch.Tensor:
    return 255 * torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(seed))


def test_permuted_text_changes_guide_and_logits_and_permutes_heatmaps() -> None:
    network = tiny_network()
    batch = images()
    with torch.no_grad():
        encoded = network.encode(batch, network.options.level_blocks)
        text = network.text_prior.embeddings.clone()
        plain = network.decode_guided(encoded.image_embeddings, encoded.block_features)
        swapped = network.decode_guided(
            encoded.image_embeddings, encoded.block_features, text[[0, 2, 1]]
        )
        logits = network(batch).logits
    assert logits.shape == (2, 3, 64, 64) and torch.allclose(logits, plain.logits, atol=1e-5)
    assert torch.allclose(swapped.guide.heatmaps, plain.guide.heatmaps[:, [0, 2, 1]], atol=1e-6)
    assert (swapped.guide.guide - plain.guide.guide).norm() > 1e-2 * plain.guide.guide.norm()
    assert (swapped.logits - plain.logits).abs().max() > 1e-3


def test_level_blocks_reach_the_logits() -> None:
    network = tiny_network()
    with torch.no_grad():
        encoded = network.encode(images(), network.options.level_blocks)
        plain = network.decode_classes(
            encoded.image_embeddings, block_features=encoded.block_features
        )
        changed = network.decode_classes(
            encoded.image_embeddings, block_features=[encoded.block_features[0] + 1.0]
        )
    assert (changed.logits - plain.logits).abs().max() > 1e-4
    with pytest.raises(ValueError, match="expected 1 encoder block outputs"):
        network.decode_classes(encoded.image_embeddings)
    with pytest.raises(ValueError, match="prompt-free"):
        network(images(), boxes=torch.zeros(2, 4))


def test_mask_optimizer_refines_its_own_previous_logits() -> None:
    torch.manual_seed(0)
    optimizer = IterativeMaskOptimizer(iterations=2, with_heatmaps=True)
    tokens, features = torch.randn(2, 3, 256), torch.randn(2, 32, 16, 16)
    heatmaps = torch.rand(2, 3, 4, 4)
    with torch.no_grad():
        result = optimizer(tokens, features, heatmaps)
        logits = torch.einsum("bkc,bchw->bkhw", optimizer.hypernetwork(tokens), features)
        upsampled = torch.nn.functional.interpolate(heatmaps, (16, 16), mode="bilinear")
        for _ in range(2):
            for k in range(3):
                inputs = torch.cat([logits[:, k : k + 1], upsampled[:, k : k + 1], features], 1)
                logits[:, k] = logits[:, k] + optimizer.refiner(inputs)[:, 0]
    assert torch.allclose(result, logits, atol=1e-5)
    optimizer.iterations = 1
    with torch.no_grad():
        assert not torch.allclose(optimizer(tokens, features, heatmaps), result, atol=1e-4)


@pytest.mark.parametrize("guide", ["classwise", "released"])
def test_checkpoint_rebuilds_the_network_with_its_text_embeddings(guide, tmp_path) -> None:
    network = tiny_network(guide, iterations=2)
    spec = PGSAMNetworkSpec.from_json(
        {
            "kind": "pgsam",
            "model_type": "vit_tiny",
            "input_size": 64,
            "num_classes": 3,
            "lora": None,
            "pgsam": network.options.to_json(),
        }
    )
    path = tmp_path / "checkpoint_final.pth"
    content = {"network": spec.to_json(), "network_weights": network.state_dict()}
    torch.save(stamped_content(content, str(path)), path)
    rebuilt = load_trained_network(path)
    assert isinstance(rebuilt, PGSAMSegmenter) and rebuilt.options == network.options
    assert torch.equal(rebuilt.text_prior.embeddings, network.text_prior.embeddings)
    rebuilt.precision = "fp32"
    with torch.no_grad():
        expected = network.eval()(images()).logits
        found = as_slice_network(rebuilt)(images())
    assert torch.allclose(found, expected, atol=1e-5)


def test_heatmap_overlays_are_written_per_class(tmp_path) -> None:
    network = tiny_network()
    batch = images()
    with torch.no_grad():
        encoded = network.encode(batch, network.options.level_blocks)
        output = network.decode_guided(encoded.image_embeddings, encoded.block_features)
    files = write_heatmap_overlays(tmp_path, "case0_z3", batch[0], output.guide.heatmaps[0], NAMES)
    assert [f.name for f in files] == [f"case0_z3_{name}.png" for name in NAMES]
    from PIL import Image

    with Image.open(files[1]) as picture:
        assert picture.size == (64, 64) and picture.mode == "RGB"
    with pytest.raises(ValueError, match="classwise guide, found guide 'released'"):
        HeatmapRecorder(tiny_network("released"), tmp_path)
