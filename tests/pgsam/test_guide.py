"""The two guide modes: classwise heatmaps follow the class texts; the released formula keeps
only the sign of one cosine per image (no class axis), as documentation/pgsam.md explains."""

from __future__ import annotations

import torch

from samseg.models.pgsam import ClasswiseGuide, ReleasedGuide

PERMUTATION = [0, 2, 1]


def embeddings_and_text(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(2, 256, 8, 8, generator=generator), torch.randn(3, 16, generator=generator)


def test_permuting_the_class_texts_permutes_the_heatmaps_and_changes_the_guide() -> None:
    torch.manual_seed(0)
    guide = ClasswiseGuide(text_dim=16, num_classes=3).eval()
    embeddings, text = embeddings_and_text()
    with torch.no_grad():
        plain = guide(embeddings, text)
        permuted = guide(embeddings, text[PERMUTATION])
    assert plain.heatmaps.shape == (2, 3, 8, 8)
    assert torch.allclose(plain.heatmaps.sum(1), torch.ones(2, 8, 8), atol=1e-5)
    assert torch.allclose(permuted.heatmaps, plain.heatmaps[:, PERMUTATION], atol=1e-6)
    assert not torch.allclose(plain.heatmaps[:, 1], plain.heatmaps[:, 2], atol=1e-3)
    change = (permuted.guide - plain.guide).norm() / plain.guide.norm()
    assert change > 1e-2


def test_released_guide_keeps_only_the_sign_of_the_cosine() -> None:
    torch.manual_seed(0)
    guide = ReleasedGuide(text_dim=16, grid=8).eval()
    embeddings, text = embeddings_and_text()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        plain = guide(embeddings, text)
        flipped = guide(embeddings, -text)
        permuted = guide(embeddings, text[PERMUTATION])
        rescaled = guide(embeddings, text + 0.3 * torch.randn(16, generator=generator))
    assert plain.heatmaps is None and plain.similarity.shape == (2,)
    # Text enters as one cosine per image: negating it negates G exactly ...
    assert torch.allclose(flipped.similarity, -plain.similarity)
    assert torch.allclose(flipped.guide, -plain.guide, atol=1e-5)
    # ... the class order does not enter at all (no class axis) ...
    assert torch.allclose(permuted.guide, plain.guide, atol=1e-5)
    # ... and the cosine's magnitude cancels in the normalisations (same sign, < 5 %).
    assert not torch.allclose(rescaled.similarity, plain.similarity)
    assert torch.equal(torch.sign(rescaled.similarity), torch.sign(plain.similarity))
    assert (rescaled.guide - plain.guide).norm() / plain.guide.norm() < 0.05
