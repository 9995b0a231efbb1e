"""P²SAM without training: one-shot Kvasir, PerSeg-style mIoU, a CT prior scan -> follow-up.

Backbones: the packaged LiteMedSAM, and issue F's interactive LiteMedSAM (decoder-only
interactive fine-tune) when ``interactive_finetuning.py`` has trained one in the work folder
given (``--kvasir_work`` for the photos, ``--ct_work`` for CT; the same folders give the raw
datasets and the LiteMedSAM plans, so run that benchmark first)::

    python benchmarks/interactive_finetuning.py --work /tmp/ik --datasets kvasir --iterations 80
    python benchmarks/interactive_finetuning.py --work /tmp/ict --datasets ct --iterations 200
    python benchmarks/p2sam.py --work /tmp/p2bench --kvasir_work /tmp/ik --ct_work /tmp/ict

Sections (``--sections``):

- ``kvasir``: the 30 Kvasir test photos of that benchmark's split (never seen in the
  interactive training); ``--references`` of them (seeded draw) are each the reference for
  the other 29; mean Dice per reference, then mean and spread over references
  (``p2sam_photos``).
- ``perseg``: ``shared/data/perseg_examples`` (per object, ``_00`` is the reference and the
  other images the targets, as PerSeg's protocol); mIoU over objects; PerSAM's argmin
  negative for the point modes (natural images).
- ``ct``: ``p2sam_ct``: the annotated training volume as the reference, the held-out slab and
  a simulated follow-up of it as targets.

Every number is measured on this machine with one torch thread; the tables go to stdout and
``WORK/p2sam_result.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import torch
from interactive_finetuning import CONFIGURATION, DATASETS, PLANS, TRAINER, resize_whole_slices
from p2sam_ct import FOLLOW_UP, adapt_ct, simulate_follow_up
from p2sam_photos import (
    PARTS,
    encode_photos,
    interleaved_timing,
    one_shot,
    same_encoder,
    summarise,
)
from plan_and_preprocess import cpu_model, require, run_checked

from samseg.adaptation import VolumeSettings
from samseg.adaptation.vocabulary import PRESENCE_SCORES, PRESENCE_TESTS
from samseg.inference.prompted_prediction import (
    PromptableModel,
    load_promptable_model_folder,
    load_sam_for_prompts,
)

REPO = Path(__file__).resolve().parents[1]
PERSEG = REPO.parent / "shared" / "data" / "perseg_examples"
PERSEG_DATASET = (953, "PerSegExamples")


def use_roots(work: Path) -> None:
    """Point samseg's roots at an ``interactive_finetuning.py``-style work folder."""
    os.environ.update(
        SAMSEG_raw=str(work / "raw"),
        SAMSEG_preprocessed=str(work / "preprocessed"),
        SAMSEG_results=str(work / "results"),
    )


def backbones(work: Path, dataset: str) -> dict[str, PromptableModel]:
    """The packaged LiteMedSAM and, when trained, the interactive one (``-f all``)."""
    use_roots(work)
    number, name = DATASETS[dataset]
    models = {"LiteMedSAM": load_sam_for_prompts(number, CONFIGURATION, PLANS)}
    folder = work / "results" / f"Dataset{number}_{name}" / f"{TRAINER}__{PLANS}__{CONFIGURATION}"
    if (folder / "fold_all" / "checkpoint_final.pth").is_file():
        models["interactive LiteMedSAM"] = load_promptable_model_folder(folder, ["all"])
    return models


def photo_cases(raw: Path, part: str) -> dict[str, tuple[Path, Path]]:
    """identifier -> (image, label) of ``imagesPART``/``labelsPART``."""
    cases = {}
    for image in sorted((raw / f"images{part}").glob("*_0000.png")):
        identifier = image.name.removesuffix("_0000.png")
        cases[identifier] = (image, raw / f"labels{part}" / f"{identifier}.png")
    return cases


def run_photos(models: dict[str, PromptableModel], groups: dict, negatives: str) -> dict:
    """``one_shot`` per backbone and reference group (the encoder runs once per encoder)."""
    results, encoded, previous = {}, None, None
    for name, model in models.items():
        if encoded is None or not same_encoder(previous, model):
            encoded = {g: encode_photos(model, cases) for g, (cases, _) in groups.items()}
        previous = model
        network = model.networks[0]
        per_group = [
            one_shot(network, encoded[g], references, negatives)
            for g, (_, references) in groups.items()
        ]
        merged = {"per_reference": {}, "seconds": {}, "encoder_seconds": 0.0}
        for part in per_group:
            merged["per_reference"].update(part["per_reference"])
            for mode, value in part["seconds"].items():
                merged["seconds"][mode] = merged["seconds"].get(mode, 0.0) + value / len(per_group)
            merged["encoder_seconds"] += part["encoder_seconds"] / len(per_group)
        results[name] = merged
        print(f"{name}: done", file=sys.stderr, flush=True)
    return results


def kvasir(args: argparse.Namespace) -> dict:
    """One-shot on the Kvasir test photos (module docstring)."""
    models = backbones(args.kvasir_work, "kvasir")
    number, name = DATASETS["kvasir"]
    cases = photo_cases(args.kvasir_work / "raw" / f"Dataset{number}_{name}", "Ts")
    if args.targets:
        cases = dict(list(cases.items())[: args.targets])
    references = random.Random(args.seed).sample(sorted(cases), args.references)
    return run_photos(models, {"kvasir": (cases, references)}, "background_parts")


def timing(args: argparse.Namespace) -> dict:
    """Encoder and adaptor seconds per target, interleaved, on ``--timing_targets`` Kvasir
    test photos with the first drawn reference, per backbone."""
    models = backbones(args.kvasir_work, "kvasir")
    number, name = DATASETS["kvasir"]
    cases = photo_cases(args.kvasir_work / "raw" / f"Dataset{number}_{name}", "Ts")
    reference = random.Random(args.seed).sample(sorted(cases), 1)[0]
    chosen = [reference, *[c for c in sorted(cases) if c != reference][: args.timing_targets]]
    subset = {c: cases[c] for c in chosen}
    return {
        backbone: interleaved_timing(model, subset, reference, "background_parts")
        for backbone, model in models.items()
    }


def perseg(args: argparse.Namespace) -> dict:
    """PerSeg-style one-shot on the shared objects (module docstring)."""
    work = args.work / "perseg"
    number, name = PERSEG_DATASET
    raw = work / "raw" / f"Dataset{number}_{name}"
    bin_dir = Path(sys.executable).parent
    if not raw.exists():
        (work / "photos" / "images").mkdir(parents=True, exist_ok=True)
        (work / "photos" / "masks").mkdir(parents=True, exist_ok=True)
        for photo in sorted(PERSEG.glob("*.jpg")):
            (work / "photos" / "images" / photo.name).symlink_to(photo)
            mask = photo.with_suffix(".png")
            (work / "photos" / "masks" / mask.name).symlink_to(mask)
        converter = require(bin_dir / "samseg_convert_image_folder")
        run_checked(
            [
                converter,
                work / "photos" / "images",
                work / "photos" / "masks",
                "-d",
                number,
                "-n",
                name,
                "-o",
                work / "raw",
            ]
        )
    use_roots(work)
    plans_file = work / "preprocessed" / raw.name / f"{PLANS}.json"
    if not plans_file.exists():
        planner = require(bin_dir / "samseg_plan_and_preprocess")
        run_checked(
            [planner, "-d", number, "-np", 1, "-pl", "LiteMedSAMPlanner"], env=dict(os.environ)
        )
        resize_whole_slices(plans_file)
    packaged = load_sam_for_prompts(number, CONFIGURATION, PLANS)
    models = {"LiteMedSAM": packaged}
    interactive = backbones(args.kvasir_work, "kvasir").get("interactive LiteMedSAM")
    use_roots(work)
    if interactive is not None:
        models["interactive LiteMedSAM (Kvasir)"] = replace(packaged, networks=interactive.networks)
    cases = photo_cases(raw, "Tr")
    objects = sorted({identifier.rsplit("_", 1)[0] for identifier in cases})
    groups = {
        obj: ({k: v for k, v in cases.items() if k.rsplit("_", 1)[0] == obj}, [f"{obj}_00"])
        for obj in objects
    }
    return run_photos(models, groups, "persam_argmin")


def ct(args: argparse.Namespace) -> dict:
    """The prior-scan protocol on CT (``p2sam_ct``)."""
    number, name = DATASETS["ct"]
    raw = args.ct_work / "raw" / f"Dataset{number}_{name}"
    references = [
        (
            [raw / "imagesTr" / f"abd_001_{part}_0000.nii.gz"],
            raw / "labelsTr" / f"abd_001_{part}.nii.gz",
        )
        for part in ("lo", "hi")
    ]
    follow_up = args.work / "ct" / "follow_up"
    if not (follow_up / "labels" / "abd_001_followup.nii.gz").exists():
        simulate_follow_up(
            raw / "imagesTs" / "abd_001_slab_0000.nii.gz",
            raw / "labelsTs" / "abd_001_slab.nii.gz",
            follow_up,
            "abd_001_followup",
        )
    targets = {
        "abd_001_slab": (
            raw / "imagesTs" / "abd_001_slab_0000.nii.gz",
            raw / "labelsTs" / "abd_001_slab.nii.gz",
        ),
        "abd_001_followup": (
            follow_up / "images" / "abd_001_followup_0000.nii.gz",
            follow_up / "labels" / "abd_001_followup.nii.gz",
        ),
    }
    volume = VolumeSettings(presence=args.presence, presence_score=args.presence_score)
    presence = "always" if args.presence == "always" else f"calibrated {args.presence_score}"
    results = {}
    for backbone, model in backbones(args.ct_work, "ct").items():
        if args.backbones and backbone not in args.backbones:
            continue
        folder = args.work / "ct" / f"{backbone}_{presence}".replace(" ", "_")
        key = f"{backbone}, presence {presence}"
        results[key] = adapt_ct(model, references, targets, folder, volume)
        print(f"{key}: done", file=sys.stderr, flush=True)
    return {"follow_up": FOLLOW_UP, "backbones": results}


def photo_table(title: str, results: dict, metric: int) -> None:
    """Per backbone: PerSAM, then per part count n the fixed-n and retrieval-over-1..n rows
    of the point and box chains (mean ± spread). (Their seconds are in the JSON; the timing
    section measures them interleaved with the encoder.)"""
    cell = "{0:.3f} ± {1:.3f}".format
    for name, result in results.items():
        summary = summarise(result, metric)
        print(f"\n### {title}: {name}\n")
        print(f"PerSAM: {cell(*summary['PerSAM'])}\n")
        print(
            "| n | points, fixed n | points, retrieval 1..n | box, fixed n | box, retrieval 1..n |"
        )
        print("|---|---|---|---|---|")
        for n in range(1, PARTS + 1):
            cells = [
                cell(*summary[f"{chain} fixed n={n}"])
                + " | "
                + (cell(*summary[f"{chain} retrieval 1..{n}"]) if n > 1 else "-")
                for chain in ("P²SAM points", "box variant")
            ]
            print(f"| {n} | " + " | ".join(cells) + " |")


def timing_table(result: dict) -> None:
    """Interleaved seconds per target and the ratio to the encoder, per backbone."""
    names = list(result)
    print("\n### Seconds per Kvasir target, interleaved (ratio to the encoder)\n")
    print("| | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    labels = {
        "encoder": "encoder",
        "persam": "PerSAM",
        "fixed3": "fixed n=3 (1 candidate)",
        "parts": f"retrieval {PARTS} x 1 points",
        "box": f"retrieval {PARTS} box",
    }
    for key, label in labels.items():
        cells = [
            f"{result[n][key]:.2f} ({result[n][key] / result[n]['encoder']:.2f}x)" for n in names
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")


def ct_table(result: dict, names: dict[int, str]) -> None:
    """Dice per organ, presence precision / recall, seconds per slice."""
    for backbone, backbone_result in result["backbones"].items():
        classes = backbone_result["classes"]
        print(f"\n### CT, {backbone}\n")
        print(
            "| mode | target | "
            + " | ".join(names[c] for c in classes)
            + " | mean | presence P / R | s/slice |"
        )
        print("|---" * (len(classes) + 5) + "|")
        for mode, targets in backbone_result["modes"].items():
            for target, scores in targets.items():
                dices = [scores["dice"][str(c)] for c in classes]
                tp, fp, fn = scores["presence"]
                precision = tp / (tp + fp) if tp + fp else float("nan")
                cells = " | ".join(f"{d:.2f}" for d in dices)
                print(
                    f"| {mode} | {target} | {cells} | {sum(dices) / len(dices):.3f} | "
                    f"{precision:.2f} / {tp / (tp + fn):.2f} | {scores['seconds_per_slice']:.2f} |"
                )
        print(
            f"\nencoder {backbone_result['encoder_seconds_per_slice']:.2f} s/slice; first run "
            f"(reference encoded) {backbone_result['first_run_seconds']:.0f} s"
        )


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="new or reused work folder")
    parser.add_argument("--kvasir_work", type=Path, help="interactive_finetuning.py kvasir work")
    parser.add_argument("--ct_work", type=Path, help="interactive_finetuning.py ct work")
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=("kvasir", "perseg", "ct", "timing"),
        default=["kvasir", "perseg", "ct"],
    )
    parser.add_argument(
        "--print_only", action="store_true", help="print the tables of WORK's result file"
    )
    parser.add_argument("--references", type=int, default=3, help="Kvasir reference photos")
    parser.add_argument("--targets", type=int, help="only the first N Kvasir photos (a smoke run)")
    parser.add_argument("--timing_targets", type=int, default=10, help="photos timed")
    parser.add_argument("--seed", type=int, default=0, help="seed of the reference draw")
    parser.add_argument(
        "--backbones", nargs="+", help="CT: only these backbones (results merge into the JSON)"
    )
    parser.add_argument("--presence", choices=PRESENCE_TESTS, default="calibrated")
    parser.add_argument("--presence_score", choices=PRESENCE_SCORES, default="area")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    args.work = args.work.resolve()
    torch.set_num_threads(1)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; 1 torch thread")
    output = args.work / "p2sam_result.json"
    results = json.loads(output.read_text()) if output.exists() else {}
    for section in [] if args.print_only else args.sections:
        work = args.ct_work if section == "ct" else args.kvasir_work
        if work is None:
            print(f"{section}: skipped (give --{'ct' if section == 'ct' else 'kvasir'}_work)")
            continue
        result = {"kvasir": kvasir, "perseg": perseg, "ct": ct, "timing": timing}[section](args)
        if section == "ct" and "ct" in results:
            result["backbones"] = {**results["ct"]["backbones"], **result["backbones"]}
        results[section] = result
        args.work.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2, default=str))
    if "kvasir" in results:
        photo_table("Kvasir one-shot, mean Dice (± spread over references)", results["kvasir"], 0)
    if "perseg" in results:
        photo_table("PerSeg examples, mIoU (± spread over objects)", results["perseg"], 1)
    if "timing" in results:
        timing_table(results["timing"])
    if "ct" in results:
        labels = json.loads(
            (args.ct_work / "raw" / "Dataset951_AbdomenCTInteractive" / "dataset.json").read_text()
        )["labels"]
        ct_table(results["ct"], {int(v): k for k, v in labels.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
