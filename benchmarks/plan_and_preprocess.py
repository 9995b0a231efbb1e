"""Wall time and peak memory of ``samseg_plan_and_preprocess`` against nnU-Net v2's.

Runs ``samseg_plan_and_preprocess -d ID -np N --overwrite`` and
``nnUNetv2_plan_and_preprocess -d ID -c 2d -np N -npfp N --verify_dataset_integrity`` on the same
raw datasets, each run in a fresh temporary raw / preprocessed / results root, and prints a table
of wall time, peak memory (RSS of the whole process tree, summed) and the ratio samseg/nnU-Net.
The target is a wall-time ratio of at most 0.5 at a peak-memory ratio of at most 1.

nnU-Net lives in its own virtual environment, made on first use (CPU torch, no CUDA wheels)::

    python benchmarks/plan_and_preprocess.py --datasets demo,abdomen -np 2 --json bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from argparse import Namespace
from collections.abc import Sequence
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
ABDOMEN = REPO.parent / "shared" / "data" / "Dataset901_AbdomenCTExample"
TORCH_PIN = "torch==2.13.0"
NNUNET_NO_DEPS = "nnunetv2==2.8.1 dynamic-network-architectures==0.4.4 batchgeneratorsv2==0.3.6"
# nnunetv2's requirements less torch and the three above; their own extra requirements (timm,
# torchvision through dynamic-network-architectures) are not needed to plan and preprocess.
NNUNET_DEPS = (
    "acvl-utils>=0.2.6,<0.3 tqdm scipy batchgenerators>=0.25.1 numpy>=1.24 scikit-learn "
    "scikit-image>=0.19.3 SimpleITK>=2.2.1 pandas graphviz tifffile requests nibabel matplotlib "
    "seaborn imagecodecs yacs einops blosc2>=3.3.2"
)
ROOT_VARIABLES = {
    "nnunet": ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"),
    "samseg": ("SAMSEG_raw", "SAMSEG_preprocessed", "SAMSEG_results"),
}


class BenchmarkError(RuntimeError):
    """A tool or a set-up step failed; the message says which and why."""


def require(executable: Path) -> Path:
    """Return ``executable``, or raise BenchmarkError saying that it is missing."""
    if not executable.is_file():
        raise BenchmarkError(f"{executable} not found: is the tool installed in that venv?")
    return executable


def run_checked(command: Sequence[str | Path], **kwargs: object) -> str:
    """Run ``command``, returning its stdout; raise BenchmarkError with its output tail."""
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise BenchmarkError(f"{' '.join(map(str, command))} exited {result.returncode}:\n{tail}")
    return result.stdout


def check_dry_run(pip: list[str], requirements: list[str]) -> None:
    """Refuse to install when pip would bring any nvidia-* package or a torch other than 2.13.0."""
    report = json.loads(
        run_checked([*pip, "install", "--dry-run", "--quiet", "--report", "-", *requirements])
    )
    for item in report["install"]:
        name, version = item["metadata"]["name"].lower(), item["metadata"]["version"]
        if name.startswith("nvidia") or (name == "torch" and version.split("+")[0] != "2.13.0"):
            raise BenchmarkError(f"pip would install {name} {version}; refusing (CUDA wheels)")


def ensure_nnunet_venv(venv: Path) -> Path:
    """Return nnU-Net's plan-and-preprocess executable in ``venv``, building the venv if needed."""
    executable = venv / "bin" / "nnUNetv2_plan_and_preprocess"
    if not executable.exists():
        print(f"building nnU-Net's environment in {venv} (once; takes minutes)", flush=True)
        run_checked([sys.executable, "-m", "venv", "--clear", venv])
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        check_dry_run(pip, [TORCH_PIN, *NNUNET_DEPS.split()])
        run_checked([*pip, "install", TORCH_PIN])
        run_checked([*pip, "install", TORCH_PIN, *NNUNET_DEPS.split()])
        run_checked([*pip, "install", "--no-deps", *NNUNET_NO_DEPS.split()])
    run_checked([executable, "-h"])
    return executable


def tree_rss(process: psutil.Process) -> int:
    """Summed resident set size in bytes of ``process`` and all its descendants."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            continue
    return total


def measure(command: list[str], env: dict[str, str], log_dir: Path) -> tuple[float, float]:
    """Run ``command``; return (wall seconds, peak process-tree RSS in MiB).

    RSS is sampled every 50 ms; stdout and stderr go to ``log_dir``. Raises BenchmarkError with
    the stderr tail when the command fails.
    """
    peak = 0
    with open(log_dir / "stdout.txt", "w") as out, open(log_dir / "stderr.txt", "w") as err:
        start = time.perf_counter()
        popen = subprocess.Popen(command, env=env, stdout=out, stderr=err, cwd=log_dir)
        process = psutil.Process(popen.pid)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.05):
                peak = max(peak, tree_rss(process))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        returncode = popen.wait()
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
    if returncode != 0:
        tail = "\n".join((log_dir / "stderr.txt").read_text().splitlines()[-40:])
        raise BenchmarkError(f"{command[0]} exited {returncode}; stderr tail:\n{tail}")
    return wall, peak / 2**20


def run_tool(
    tool: str,
    executable: Path,
    raw_dataset: Path,
    dataset_id: int,
    processes: int,
) -> tuple[float, float]:
    """Run one tool once on ``raw_dataset`` in a fresh temporary root; return (wall s, peak MiB)."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{tool}-") as tmp:
        roots = [Path(tmp) / name for name in ("raw", "preprocessed", "results")]
        for root in roots:
            root.mkdir()
        (roots[0] / raw_dataset.name).symlink_to(raw_dataset.resolve(), target_is_directory=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("nnUNet_", "SAMSEG_"))}
        env.update({var: str(root) for var, root in zip(ROOT_VARIABLES[tool], roots, strict=True)})
        env.update(CUDA_VISIBLE_DEVICES="", nnUNet_def_n_proc=str(processes))
        n = str(processes)
        if tool == "nnunet":
            args = ["-c", "2d", "-np", n, "-npfp", n, "--verify_dataset_integrity"]
        else:
            args = ["-np", n, "--overwrite"]
        wall, peak = measure([str(executable), "-d", str(dataset_id), *args], env, Path(tmp))
        if not any(path.is_file() for path in roots[1].rglob("*")):
            raise BenchmarkError(f"{tool} exited 0 but wrote nothing under {roots[1]}")
        return wall, peak


def make_demo(samseg_bin: Path, out_root: Path) -> Path:
    """Create samseg's demo dataset under ``out_root``; return its DatasetXXX folder."""
    run_checked([require(samseg_bin / "samseg_make_demo_dataset"), "-o", out_root])
    return out_root / "Dataset001_Demo"


def benchmark_dataset(
    dataset: str, raw: Path, dataset_id: int, executables: dict[str, Path], args: Namespace
) -> list[dict[str, object]]:
    """Table rows for one dataset: each tool's best run, then samseg/nnU-Net when both ran."""
    runs: dict[str, list[tuple[float, float]]] = {tool: [] for tool in executables}
    for _ in range(args.repeats):  # interleaved, so that both tools see the same machine load
        for tool, executable in executables.items():
            print(f"running {tool} on {dataset} ...", file=sys.stderr, flush=True)
            runs[tool].append(run_tool(tool, executable, raw, dataset_id, args.processes))
    rows: list[dict[str, object]] = []
    for tool, measured in runs.items():
        best = {"wall_s": min(r[0] for r in measured), "peak_mib": min(r[1] for r in measured)}
        rows.append({"dataset": dataset, "tool": tool, **best, "runs": measured})
    if len(rows) == 2:
        ratio = {key: rows[1][key] / rows[0][key] for key in ("wall_s", "peak_mib")}
        rows.append({"dataset": dataset, "tool": "ratio", **ratio})
    return rows


def cpu_model() -> str:
    """The CPU's model name as lscpu reports it, or platform's guess."""
    try:
        for line in run_checked(["lscpu"]).splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, BenchmarkError):
        pass
    return platform.processor() or "unknown"


def print_table(rows: list[dict[str, object]]) -> None:
    """Print dataset, tool, wall s and peak MiB rows; ratio rows (samseg/nnU-Net) get a verdict."""
    print(f"{'dataset':<10} {'tool':<8} {'wall s':>8} {'peak MiB':>9}")
    for row in rows:
        wall, peak = row["wall_s"], row["peak_mib"]
        if row["tool"] == "ratio":
            verdict = "target met" if wall <= 0.5 and peak <= 1.0 else "target missed"
            print(f"{row['dataset']:<10} {'ratio':<8} {wall:>8.2f} {peak:>9.2f}  {verdict}")
        else:
            print(f"{row['dataset']:<10} {row['tool']:<8} {wall:>8.1f} {peak:>9.1f}")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the table; 1 when a tool fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets",
        default="demo,abdomen",
        help="comma-separated subset of demo,abdomen (default: both)",
    )
    parser.add_argument(
        "--tools",
        default="nnunet,samseg",
        help="comma-separated subset of nnunet,samseg (default: both)",
    )
    parser.add_argument(
        "-np",
        dest="processes",
        type=int,
        default=2,
        help="worker processes for both tools (default: 2)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="runs per tool and dataset; the minimum is reported (default: 1)",
    )
    parser.add_argument(
        "--nnunet-venv",
        type=Path,
        default=Path.home() / ".cache" / "samseg-bench" / "nnunet-venv",
        help="nnU-Net's virtual environment, built when missing",
    )
    parser.add_argument(
        "--samseg-venv",
        type=Path,
        default=REPO / ".venv",
        help="virtual environment with samseg installed (default: REPO/.venv)",
    )
    parser.add_argument(
        "--abdomen", type=Path, default=ABDOMEN, help="raw Dataset901_AbdomenCTExample folder"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    datasets = args.datasets.split(",")
    tools = args.tools.split(",")
    if not set(datasets) <= {"demo", "abdomen"} or not set(tools) <= {"nnunet", "samseg"}:
        parser.error("--datasets takes demo,abdomen and --tools takes nnunet,samseg")
    if "abdomen" in datasets and not (args.abdomen / "dataset.json").is_file():
        parser.error(f"--abdomen {args.abdomen} has no dataset.json")
    samseg_bin = args.samseg_venv / "bin"
    rows: list[dict[str, object]] = []
    try:
        executables: dict[str, Path] = {}  # nnU-Net first, so ratio rows divide by it
        if "nnunet" in tools:
            executables["nnunet"] = ensure_nnunet_venv(args.nnunet_venv.expanduser())
        if "samseg" in tools:
            executables["samseg"] = require(samseg_bin / "samseg_plan_and_preprocess")
        with tempfile.TemporaryDirectory(prefix="bench-demo-") as demo_root:
            sources = {"abdomen": (args.abdomen, 901)}
            if "demo" in datasets:
                sources["demo"] = (make_demo(samseg_bin, Path(demo_root)), 1)
            for dataset in datasets:
                raw, dataset_id = sources[dataset]
                rows += benchmark_dataset(dataset, raw, dataset_id, executables, args)
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    machine = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_1min_at_end": round(os.getloadavg()[0], 2),
    }
    print(
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"load {machine['load_1min_at_end']}; "
        f"-np {args.processes}, best of {args.repeats} run(s); "
        "target: ratio wall <= 0.5 and peak <= 1.0"
    )
    print_table(rows)
    if args.json:
        record = {"machine": machine, "processes": args.processes, "repeats": args.repeats}
        args.json.write_text(json.dumps({**record, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
