"""PG-SAM on Synapse with a real CLIP checkpoint, 10 % and full training data, on a GPU.

The comparison ``pgsam.py`` cannot make on a machine without text weights: the class
descriptions (``builtin:synapse``) embedded by a CLIP text model from ``--clip``, against the
learned-embedding ablation and the released guide, each trained on the TransUNet/SAMed
Synapse slices (``train_npz/``, 18 cases) and tested on its 12 volumes (``test_vol_h5/``).

For each data fraction the script converts the slices (``samseg_convert_transunet``; the
10 % set keeps every tenth slice of each case, or the slices named by ``--ten-percent-list``,
e.g. H-SAM's ``train_220.txt``; renumbered per case, as the converter stacks slices without
gaps), plans it with a generated planner (the fixed CT window
[-125, 275] HU of the protocol, slices resized to ``--input-size`` like the release's 224,
no neighbour slices: the 10 % volumes stack slices that are not neighbours), trains each
method for ``--epochs`` x ``--iterations`` steps, predicts the test volumes and evaluates
them twice: ``samseg_evaluate --synapse_protocol`` (Dice, HD95 in voxels with TransUNet's
empty-mask rules: the numbers the paper reports) next to samseg's default metrics (HD95 mm).

    python benchmarks/pgsam_synapse_gpu.py --transunet /data/Synapse --clip /models/clip-b32 \\
        --sam-checkpoint /models/sam_vit_b_01ec64.pth --epochs 30 --iterations 250
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from samseg.conversion.synapse import SYNAPSE_LABELS

REPO = Path(__file__).resolve().parents[1]
METHODS = {
    "classwise": "PGSAMTrainer",
    "learned": "PGSAMLearnedPriorTrainer",
    "released": "PGSAMReleasedTrainer",
    "lora": "SAMLoRATrainer",
}
DATASETS = {"full": (61, "SynapseFull"), "10": (62, "Synapse10")}
PLANS = "samsegPlansPGSAMSynapse"

PLANNER_SOURCE = '''"""Planner of pgsam_synapse_gpu.py (generated)."""

from samseg.planning.planner import SynapseCTWindowPlanner


class PGSAMSynapsePlanner(SynapseCTWindowPlanner):
    """The Synapse CT window, slices resized to {size} px, {model_type}, no context slices."""

    plans_name = "{plans}"
    input_sizes = ({size},)
    model_type = "{model_type}"
    slice_scaling = "resize_to_fill"
    context_slices = 0
'''

TRAINER_SOURCE = '''
class GPU{name}({name}):
    """{name}, {epochs} x {steps} steps of batch {batch} (generated)."""

    num_epochs = {epochs}
    num_iterations_per_epoch = {steps}
    batch_size = {batch}
    seed = 1234

    def perform_validation(self, checkpoint_name="", *, save_probabilities=False):
        self.log.log("benchmark: final validation skipped (the test volumes are the test)")
'''


def run(command: Sequence[object], env: dict[str, str]) -> None:
    """Run one stage, echoed; stop the script when it fails."""
    words = [str(word) for word in command]
    print("+", " ".join(words), flush=True)
    subprocess.run(words, env=env, check=True)


def training_input(args: argparse.Namespace, fraction: str, work: Path) -> Path:
    """The TransUNet folder of ``fraction``: the original (full) or a linked 10 % subset."""
    if fraction == "full":
        return args.transunet
    slices = sorted((args.transunet / "train_npz").glob("*.npz"))
    if args.ten_percent_list:
        names = {line.strip() for line in args.ten_percent_list.read_text().splitlines()}
        chosen = [path for path in slices if path.stem in names]
    else:
        chosen = [path for index, path in enumerate(slices) if index % 10 == 0]
    folder = work / "transunet_10"
    (folder / "train_npz").mkdir(parents=True, exist_ok=True)
    # The converter stacks a case's slices 0..n-1 without gaps: renumber the kept ones.
    kept: dict[str, int] = {}
    for path in chosen:
        case = path.stem.split("_slice")[0]
        link = folder / "train_npz" / f"{case}_slice{kept.get(case, 0):03d}.npz"
        kept[case] = kept.get(case, 0) + 1
        if not link.exists():
            link.symlink_to(path)
    test = folder / "test_vol_h5"
    if not test.exists():
        test.symlink_to(args.transunet / "test_vol_h5", target_is_directory=True)
    print(f"10 % data: {len(chosen)} of {len(slices)} training slices", flush=True)
    return folder


def table(summaries: dict[str, dict], metric: str, unit: str) -> str:
    """Markdown rows: method, ``metric`` per organ (Synapse order), mean of the defined."""
    names = {str(value): name for name, value in SYNAPSE_LABELS.items() if value}
    keys = sorted(names, key=int)
    lines = [f"| {metric} ({unit}) | " + " | ".join(names[k] for k in keys) + " | mean |"]
    lines.append("|" + "---|" * (len(keys) + 2))
    for method, summary in summaries.items():
        values = [summary["mean"].get(k, {}).get(metric, float("nan")) for k in keys]
        defined = [v for v in values if v == v]
        mean = sum(defined) / len(defined) if defined else float("nan")
        lines.append(f"| {method} | " + " | ".join(f"{v:.3f}" for v in values) + f" | {mean:.3f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Convert, plan, train, predict and evaluate; print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transunet", type=Path, required=True, help="train_npz + test_vol_h5")
    parser.add_argument("--clip", type=Path, required=True, help="local CLIP checkpoint folder")
    parser.add_argument("--sam-checkpoint", required=True, help="SAM weights (or none)")
    parser.add_argument("--model-type", default="vit_b", help="SAM backbone (default vit_b)")
    parser.add_argument("--input-size", type=int, default=224, help="network input (224)")
    parser.add_argument("--fractions", default="10,full", help="of 10,full")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"of {','.join(METHODS)}")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--iterations", type=int, default=250, help="steps per epoch")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--ten-percent-list", type=Path, help="slice names of the 10 % set")
    parser.add_argument("--work-dir", type=Path, default=Path("pgsam_synapse_work"))
    args = parser.parse_args(argv)
    work = args.work_dir.resolve()
    code = work / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "pgsam_gpu_planners.py").write_text(
        PLANNER_SOURCE.format(size=args.input_size, model_type=args.model_type, plans=PLANS)
    )
    trainers = work / "trainers"
    trainers.mkdir(exist_ok=True)
    lines = ['"""Trainers of pgsam_synapse_gpu.py (generated)."""', ""]
    lines += [
        "from samseg.training.trainers.lora import SAMLoRATrainer",
        "from samseg.training.trainers.pgsam import (",
        "    PGSAMLearnedPriorTrainer, PGSAMReleasedTrainer, PGSAMTrainer,",
        ")",
    ]
    for name in METHODS.values():
        lines.append(
            TRAINER_SOURCE.format(
                name=name, epochs=args.epochs, steps=args.iterations, batch=args.batch
            )
        )
    (trainers / "pgsam_gpu_trainers.py").write_text("\n".join(lines))
    text = {"source": "clip", "clip_path": str(args.clip), "descriptions": "builtin:synapse"}
    (work / "pgsam_text.json").write_text(json.dumps(text, indent=2))
    env = dict(os.environ)
    env.update(
        SAMSEG_raw=str(work / "raw"),
        SAMSEG_preprocessed=str(work / "preprocessed"),
        SAMSEG_results=str(work / "results"),
        SAMSEG_extTrainer=str(trainers),
        SAMSEG_pgsam_text=str(work / "pgsam_text.json"),
        PYTHONPATH=os.pathsep.join([str(code), env.get("PYTHONPATH", "")]),
    )
    configuration = f"2d_{args.input_size}"
    report = []
    for fraction in args.fractions.split(","):
        dataset_id, name = DATASETS[fraction]
        raw = work / "raw" / f"Dataset{dataset_id:03d}_{name}"
        source = training_input(args, fraction, work)
        if not raw.is_dir():
            run(
                [
                    *("samseg_convert_transunet", source, "-o", work / "raw"),
                    *("--dataset_id", dataset_id, "--name", name),
                ],
                env,
            )
        run(
            [
                *("samseg_plan_and_preprocess", "-d", dataset_id),
                *("-pl", "pgsam_gpu_planners.PGSAMSynapsePlanner"),
            ],
            env,
        )
        summaries: dict[str, dict[str, dict]] = {"synapse": {}, "samseg": {}}
        for method in args.methods.split(","):
            trainer = f"GPU{METHODS[method]}"
            model = [dataset_id, configuration, "all", "-tr", trainer, "-p", PLANS]
            run(["samseg_train", *model, "--sam_checkpoint", args.sam_checkpoint], env)
            output = work / "predictions" / fraction / method
            run(
                [
                    *("samseg_predict", "-i", raw / "imagesTs", "-o", output, "-d", dataset_id),
                    *("-c", configuration, "-tr", trainer, "-p", PLANS, "-f", "all"),
                ],
                env,
            )
            for protocol, flags in (("synapse", ["--synapse_protocol"]), ("samseg", [])):
                summary = work / "summaries" / fraction / f"{method}_{protocol}.json"
                summary.parent.mkdir(parents=True, exist_ok=True)
                run(
                    [
                        *("samseg_evaluate", "-ref", raw / "labelsTs", "-pred", output),
                        *("-d", dataset_id, "-o", summary, *flags),
                    ],
                    env,
                )
                summaries[protocol][method] = json.loads(summary.read_text())
        report.append(f"\n## {fraction} data, {args.model_type} at {args.input_size} px")
        report.append(table(summaries["synapse"], "Dice", "Synapse protocol"))
        report.append(table(summaries["synapse"], "HD95", "voxels, Synapse protocol"))
        report.append(table(summaries["samseg"], "Dice", "samseg"))
        report.append(table(summaries["samseg"], "HD95", "mm, samseg"))
    print("\n\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
