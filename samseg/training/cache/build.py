"""Build (or complete) an embedding cache: encode every network-input view of the cases once."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from samseg.errors import SamsegConfigError
from samseg.models.segmenter import SamSegmenter
from samseg.plans import SliceConfiguration
from samseg.preprocessing.storage import StoredCase, load_case
from samseg.slices import sam_input_slices
from samseg.training.cache.settings import EmbeddingCacheSettings
from samseg.training.cache.store import EmbeddingCache, ViewRecord
from samseg.training.data.views import network_input_views


@dataclass(frozen=True)
class CacheBuildReport:
    """What :func:`build_embedding_cache` did.

    Attributes:
        encoded_cases: cases encoded now.
        reused_cases: cases already complete in the cache.
        encoded_views: network-input views encoded now.
        seconds: wall time, seconds.
    """

    encoded_cases: int
    reused_cases: int
    encoded_views: int
    seconds: float


def build_embedding_cache(
    cache: EmbeddingCache,
    network: SamSegmenter,
    case_ids: Sequence[str],
    configuration: SliceConfiguration,
    settings: EmbeddingCacheSettings,
    *,
    show_progress: bool = True,
    log: Callable[[str], None] = print,
) -> CacheBuildReport:
    """Encode the cases of ``case_ids`` the cache does not hold yet (resumable per case).

    Args:
        cache: the cache to fill (its key must describe ``network`` and ``configuration``).
        network: the segmenter whose (frozen) image encoder makes the embeddings; its
            training mode is restored afterwards.
        case_ids: preprocessed labelled cases of ``cache.data_folder``.
        configuration: the plans configuration (views as the predictor cuts them).
        settings: cached blocks, scaled copies, encoder batch size.
        show_progress: a progress bar over the slices to encode.
        log: where the one-line summary goes.

    Raises:
        SamsegConfigError: scaled copies asked of a ``resize_to_fill`` configuration, where
            every slice fills the input whatever the zoom.
    """
    if configuration.slice_scaling != "fixed_scale" and set(settings.scales) != {1.0}:
        raise SamsegConfigError(
            f"embedding cache: expected scales (1.0,) with slice_scaling "
            f"{configuration.slice_scaling!r} (slices are resized to fill the input), found "
            f"{settings.scales}; scaled copies need a fixed_scale configuration"
        )
    start = time.perf_counter()
    cache.prepare()
    pending = [c for c in dict.fromkeys(case_ids) if not cache.is_complete(c)]
    cases = {c: load_case(cache.data_folder, c) for c in pending}
    total = sum(case.data.shape[1] for case in cases.values())
    was_training = network.training
    network.eval()
    views = 0
    try:
        bar = tqdm(total=total, desc="embedding cache", unit="slice", disable=not show_progress)
        with bar:
            for case_id, case in cases.items():
                views += _encode_case(cache, network, case_id, case, configuration, settings, bar)
    finally:
        network.train(was_training)
    reused = len(dict.fromkeys(case_ids)) - len(pending)
    report = CacheBuildReport(len(pending), reused, views, time.perf_counter() - start)
    log(
        f"embedding cache {cache.folder}: {report.encoded_cases} cases ({report.encoded_views} "
        f"views) encoded in {report.seconds:.1f} s, {report.reused_cases} cases reused"
    )
    return report


def _encode_case(
    cache: EmbeddingCache,
    network: SamSegmenter,
    case_id: str,
    case: StoredCase,
    configuration: SliceConfiguration,
    settings: EmbeddingCacheSettings,
    bar: tqdm,
) -> int:
    """Cut, encode and write one case; return its number of views.

    Views are encoded as soon as a batch of them is cut, and ``bar`` advances by the slices whose
    views are all encoded, so the progress shows the encoder's work, not the cutting.
    """
    records: list[ViewRecord] = []
    images: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    encoded: list[tuple[np.ndarray, dict[int, np.ndarray]]] = []
    slices_cut = 0

    def encode_cut_views() -> None:
        nonlocal slices_cut
        start = sum(len(chunk) for chunk, _ in encoded)
        encoded.append(_encode(network, np.stack(images[start:]), settings))
        bar.update(slices_cut)
        slices_cut = 0

    for slice_index in range(case.data.shape[1]):
        image = sam_input_slices(case.data, [slice_index], configuration.context_slices)[0]
        label = np.asarray(case.label[0, slice_index])
        for scale in settings.scales:
            cut = network_input_views(image, label, configuration, scale=scale)
            for window, view_image, view_label in zip(
                cut.windows, cut.images, cut.labels, strict=True
            ):
                values = tuple(np.unique(view_label).tolist())
                records.append(ViewRecord(slice_index, scale, window, values))
                images.append(view_image)
                labels.append(view_label)
        slices_cut += 1
        if len(images) - sum(len(chunk) for chunk, _ in encoded) >= settings.encode_batch_size:
            encode_cut_views()
    if slices_cut:
        encode_cut_views()
    embeddings = np.concatenate([chunk for chunk, _ in encoded])
    blocks = {b: np.concatenate([chunk[b] for _, chunk in encoded]) for b in settings.return_blocks}
    cache.write_case(case_id, records, embeddings, blocks, np.stack(labels))
    return len(records)


@torch.no_grad()
def _encode(
    network: SamSegmenter, images: np.ndarray, settings: EmbeddingCacheSettings
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """(N, 256, G, G) float16 embeddings and float16 block outputs of (N, 3, S, S) images."""
    device = next(network.parameters()).device
    embeddings, blocks = [], {b: [] for b in settings.return_blocks}
    for start in range(0, len(images), settings.encode_batch_size):
        chunk = torch.from_numpy(images[start : start + settings.encode_batch_size]).to(device)
        encoded = network.encode(chunk, settings.return_blocks)
        embeddings.append(encoded.image_embeddings.half().cpu().numpy())
        for block, feature in zip(settings.return_blocks, encoded.block_features, strict=True):
            blocks[block].append(feature.half().cpu().numpy())
    return np.concatenate(embeddings), {b: np.concatenate(v) for b, v in blocks.items()}
