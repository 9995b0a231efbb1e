"""P²SAM and PerSAM one-shot on photos: one annotated reference image, the others segmented.

Used by ``p2sam.py`` (sections ``kvasir`` and ``perseg``). Every photo is preprocessed with
the dataset's LiteMedSAM plans (each whole photo resized to the 256 x 256 input) and encoded
once per backbone encoder; each (reference, target) pair then runs the adaptor in four
settings, timed one after another on the same cached embedding:

- ``persam``: PerSAM (one mean positive part, one negative at its similarity minimum);
- ``parts``: P²SAM's retrieval over 1..5 positive parts x 1 negative part; its candidates
  are the fixed-n masks (checked against a separate ``fixed`` run at n = 3), and retrieval
  over 1..n is the retrieval rule on the first n candidates;
- ``fixed3``: the fixed 3-part run (timing and the exactness check);
- ``box``: samseg's box variant (the box of the region more similar to the parts than to
  the background, LiteMedSAM's box decoder chain), retrieval over 1..5 parts.

Dice and IoU are computed in the 256 x 256 network frame (label resized nearest-exact).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from samseg.adaptation import AdaptorSettings, PartAwareAdaptor, ReferenceFeatures
from samseg.adaptation.adaptor import AdaptationResult, retrieved_candidate
from samseg.adaptation.token_grid import mask_to_token_grid
from samseg.adaptation.volume import encode_slices, single_view
from samseg.inference.prompted_prediction import PromptableModel
from samseg.io import reader_writer_for
from samseg.preprocessing import preprocess_case

PARTS = 5
"""The largest part count of the retrieval grid."""


@dataclass(frozen=True)
class EncodedPhoto:
    """One preprocessed, encoded photo.

    Attributes:
        identifier: the case.
        embedding: (256, G, G) float32.
        label: (S, S) bool object mask in the network frame.
        valid: (S, S) bool pixels holding the photo.
        encoder_seconds: wall seconds of its encoder pass.
    """

    identifier: str
    embedding: torch.Tensor
    label: torch.Tensor
    valid: torch.Tensor
    encoder_seconds: float


def encode_photos(
    model: PromptableModel, cases: dict[str, tuple[Path, Path]]
) -> list[EncodedPhoto]:
    """Preprocess and encode every (image, label) case with the model's plans."""
    network = model.networks[0]
    configuration = model.plans.configuration(model.configuration)
    photos = []
    for identifier, (image, label) in cases.items():
        case = preprocess_case([image], label, model.plans, reader_writer_for(image))
        view = single_view(case.data.shape[-2:], configuration, identifier)
        start = time.perf_counter()
        embedding = encode_slices(network, case.data, [0], configuration, view, 1)[0].float()
        seconds = time.perf_counter() - start
        labels = torch.from_numpy(case.label[0, :1].astype("int64"))
        framed = view.tiling.cut_labels(labels, [view.window])[0] == 1
        photos.append(EncodedPhoto(identifier, embedding, framed & view.valid, view.valid, seconds))
    return photos


def same_encoder(first: PromptableModel, second: PromptableModel) -> bool:
    """Whether two models' image encoders hold identical weights (their embeddings agree)."""
    a = first.networks[0].image_encoder.state_dict()
    b = second.networks[0].image_encoder.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def reference_features(photo: EncodedPhoto) -> ReferenceFeatures:
    """The reference's tokens and prototypes (padding tokens excluded)."""
    grid = photo.embedding.shape[-1]
    return ReferenceFeatures.from_embedding(
        photo.embedding,
        mask_to_token_grid(photo.label, grid),
        mask_to_token_grid(photo.valid, grid),
    )


def settings_of(negatives: str) -> dict[str, AdaptorSettings]:
    """The four timed settings (module docstring); ``negatives`` of the point modes."""
    return {
        "persam": AdaptorSettings(mode="persam"),
        "parts": AdaptorSettings(positive_parts=(1, PARTS), negatives=negatives),
        "fixed3": AdaptorSettings(
            mode="fixed", positive_parts=(3, 3), negative_parts=(1, 1), negatives=negatives
        ),
        "box": AdaptorSettings(positive_parts=(1, PARTS), prompt_type="box"),
    }


def overlap(logits: torch.Tensor, photo: EncodedPhoto, network) -> tuple[float, float]:
    """(Dice, IoU) of (1, 1, 4G, 4G) logits against the photo's label."""
    mask = (network.upscale_logits(logits)[0, 0] > 0) & photo.valid
    truth = photo.label
    intersection = float((mask & truth).sum())
    total = float(mask.sum() + truth.sum())
    union = total - intersection
    return (2 * intersection / total if total else 1.0), (intersection / union if union else 1.0)


def candidate_rows(prefix: str, result: AdaptationResult, photo, network) -> dict[str, float]:
    """Fixed-n and retrieval-over-1..n (Dice, IoU) rows from one retrieval run's candidates."""
    rows = {}
    by_count = {c.positives: i for i, c in enumerate(result.candidates)}
    for n in range(1, PARTS + 1):
        index = by_count.get(n, by_count[max(by_count)])
        rows[f"{prefix} fixed n={n}"] = overlap(result.candidate_logits[index], photo, network)
        if n > 1:
            first = [
                i for i in range(len(result.candidates)) if result.candidates[i].positives <= n
            ]
            chosen = first[retrieved_candidate([result.candidates[i] for i in first])]
            rows[f"{prefix} retrieval 1..{n}"] = overlap(
                result.candidate_logits[chosen], photo, network
            )
    return rows


def prepared_adaptors(network, reference: EncodedPhoto, negatives: str) -> dict:
    """One adaptor per timed setting on the reference's features, its prototypes computed
    (a first segmentation of the reference itself fills the caches, as a reference volume's
    first target slice does)."""
    features = reference_features(reference)
    adaptors = {}
    for name, settings in settings_of(negatives).items():
        adaptors[name] = PartAwareAdaptor(network, features, settings)
        adaptors[name].segment(reference.embedding, reference.valid)
    return adaptors


def adapt_pair(
    network, adaptors: dict[str, PartAwareAdaptor], target: EncodedPhoto
) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """Every row's (Dice, IoU) and every timed setting's seconds for one target."""
    rows, seconds, results = {}, {}, {}
    for name, adaptor in adaptors.items():
        start = time.perf_counter()
        results[name] = adaptor.segment(target.embedding, target.valid)
        seconds[name] = time.perf_counter() - start
    rows["PerSAM"] = overlap(results["persam"].low_res_logits, target, network)
    rows.update(candidate_rows("P²SAM points", results["parts"], target, network))
    rows.update(candidate_rows("box variant", results["box"], target, network))
    parts = results["parts"]
    three = [i for i, c in enumerate(parts.candidates) if c.positives == 3]
    if three and not torch.equal(
        parts.candidate_logits[three[0]], results["fixed3"].low_res_logits
    ):
        raise AssertionError(f"{target.identifier}: the n=3 candidate differs from mode fixed")
    return rows, seconds


def one_shot(
    network, photos: Sequence[EncodedPhoto], references: Sequence[str], negatives: str
) -> dict:
    """Per reference: mean (Dice, IoU) per row over the other photos, and mean seconds."""
    per_reference, seconds = {}, {}
    for reference in references:
        source = next(p for p in photos if p.identifier == reference)
        adaptors = prepared_adaptors(network, source, negatives)
        rows: dict[str, list[tuple[float, float]]] = {}
        for target in photos:
            if target.identifier == reference:
                continue
            scores, times = adapt_pair(network, adaptors, target)
            for row, value in scores.items():
                rows.setdefault(row, []).append(value)
            for name, value in times.items():
                seconds.setdefault(name, []).append(value)
        per_reference[reference] = {
            row: [statistics.fmean(v[0] for v in values), statistics.fmean(v[1] for v in values)]
            for row, values in rows.items()
        }
    return {
        "per_reference": per_reference,
        "seconds": {name: statistics.fmean(values) for name, values in seconds.items()},
        "encoder_seconds": statistics.fmean(p.encoder_seconds for p in photos),
    }


def summarise(result: dict, metric: int) -> dict[str, tuple[float, float]]:
    """Per row: mean and standard deviation over references of metric 0 (Dice) or 1 (IoU)."""
    references = list(result["per_reference"].values())
    summary = {}
    for row in references[0]:
        values = [reference[row][metric] for reference in references]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        summary[row] = (statistics.fmean(values), spread)
    return summary


def interleaved_timing(
    model: PromptableModel, cases: dict[str, tuple[Path, Path]], reference: str, negatives: str
) -> dict[str, float]:
    """Mean seconds per target of the encoder and of each timed setting, measured one right
    after the other on every target (a shared machine's load then hits all alike)."""
    network = model.networks[0]
    source = encode_photos(model, {reference: cases[reference]})[0]
    adaptors = prepared_adaptors(network, source, negatives)
    seconds: dict[str, list[float]] = {"encoder": []}
    for identifier, files in cases.items():
        if identifier == reference:
            continue
        target = encode_photos(model, {identifier: files})[0]
        seconds["encoder"].append(target.encoder_seconds)
        for name, adaptor in adaptors.items():
            start = time.perf_counter()
            adaptor.segment(target.embedding, target.valid)
            seconds.setdefault(name, []).append(time.perf_counter() - start)
    return {name: statistics.fmean(values) for name, values in seconds.items()}
