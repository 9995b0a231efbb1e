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
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
ABDOMEN = REPO.parent / "shared" / "data" / "Dataset901_AbdomenCTExample"
TORCH_PIN = "torch==2.13.0"
NNUNET_NO_DEPS = ["nnunetv2==2.8.1", "dynamic-network-architectures==0.4.4",
                  "batchgeneratorsv2==0.3.6"]
# nnunetv2's requirements less torch and the three above; their own extra requirements (timm,
# torchvision through dynamic-network-architectures) are not needed to plan and preprocess.
NNUNET_DEPS = ["acvl-utils>=0.2.6,<0.3", "tqdm", "scipy", "batchgenerators>=0.25.1",
               "numpy>=1.24", "scikit-learn", "scikit-image>=0.19.3", "SimpleITK>=2.2.1",
               "pandas", "graphviz", "tifffile", "requests", "nibabel", "matplotlib", "seaborn",
               "imagecodecs", "yacs", "einops", "blosc2>=3.3.2"]
ROOT_VARIABLES = {"nnunet": ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"),
                  "samseg": ("SAMSEG_raw", "SAMSEG_preprocessed", "SAMSEG_results")}


class BenchmarkError(RuntimeError):
    """A tool or a set-up step failed; the message says which and why."""


def run_checked(command: Sequence[str | Path], **kwargs: object) -> str:
    """Run ``command``, returning its stdout; raise BenchmarkError with its output tail."""
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise BenchmarkError(f"{' '.join(map(str, command))} exited {result.returncode}:\n{tail}")
    return result.stdout


def check_dry_run(pip: list[str], requirements: list[str]) -> None:
    """Refuse to install when pip would bring any nvidia-* package or a torch other than 2.13.0."""
    report = json.loads(run_checked([*pip, "install", "--dry-run", "--quiet", "--report", "-",
                                     *requirements]))
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
        check_dry_run(pip, [TORCH_PIN, *NNUNET_DEPS])
        run_checked([*pip, "install", TORCH_PIN])
        run_checked([*pip, "install", TORCH_PIN, *NNUNET_DEPS])
        run_checked([*pip, "install", "--no-deps", *NNUNET_NO_DEPS])
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


def run_tool(tool: str, executable: Path, raw_dataset: Path, dataset_id: int, processes: int,
             ) -> tuple[float, float]:
    """Run one tool once on ``raw_dataset`` in a fresh temporary root; return (wall s, peak MiB)."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{tool}-") as tmp:
        roots = [Path(tmp) / name for name in ("raw", "preprocessed", "results")]
        for root in roots:
            root.mkdir()
        (roots[0] / raw_dataset.name).symlink_to(raw_dataset.resolve(), target_is_directory=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("nnUNet_", "SAMSEG_"))}
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
    run_checked([samseg_bin / "samseg_make_demo_dataset", "-o", out_root])
    return out_root / "Dataset001_Demo"


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
    """Print dataset, tool, wall s and peak MiB rows, and a ratio row per dataset."""
    print(f"{'dataset':<10} {'tool':<8} {'wall s':>8} {'peak MiB':>9}")
    for row in rows:
        wall, peak = row["wall_s"], row["peak_mib"]
        fmt = ".2f" if row["tool"] == "ratio" else ".1f"
        print(f"{row['dataset']:<10} {row['tool']:<8} {wall:>8{fmt}} {peak:>9{fmt}}")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the table; 1 when a tool fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="demo,abdomen",
                        help="comma-separated subset of demo,abdomen (default: both)")
    parser.add_argument("--tools", default="nnunet,samseg",
                        help="comma-separated subset of nnunet,samseg (default: both)")
    parser.add_argument("-np", dest="processes", type=int, default=2,
                        help="worker processes for both tools (default: 2)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per tool and dataset; the median is reported (default: 1)")
    parser.add_argument("--nnunet-venv", type=Path,
                        default=Path.home() / ".cache" / "samseg-bench" / "nnunet-venv",
                        help="nnU-Net's virtual environment, built when missing")
    parser.add_argument("--samseg-venv", type=Path, default=REPO / ".venv",
                        help="virtual environment with samseg installed (default: REPO/.venv)")
    parser.add_argument("--abdomen", type=Path, default=ABDOMEN,
                        help="raw Dataset901_AbdomenCTExample folder")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    datasets = args.datasets.split(",")
    tools = args.tools.split(",")
    if not set(datasets) <= {"demo", "abdomen"} or not set(tools) <= {"nnunet", "samseg"}:
        parser.error("--datasets takes demo,abdomen and --tools takes nnunet,samseg")
    samseg_bin = args.samseg_venv / "bin"
    rows: list[dict[str, object]] = []
    try:
        executables = {"samseg": samseg_bin / "samseg_plan_and_preprocess"}
        if "nnunet" in tools:
            executables["nnunet"] = ensure_nnunet_venv(args.nnunet_venv.expanduser())
        with tempfile.TemporaryDirectory(prefix="bench-demo-") as demo_root:
            sources = {"abdomen": (args.abdomen, 901)}
            if "demo" in datasets:
                sources["demo"] = (make_demo(samseg_bin, Path(demo_root)), 1)
            for dataset in datasets:
                raw, dataset_id = sources[dataset]
                by_tool: dict[str, tuple[float, float]] = {}
                for tool in tools:
                    runs = []
                    for _ in range(args.repeats):
                        print(f"running {tool} on {dataset} ...", file=sys.stderr, flush=True)
                        runs.append(run_tool(tool, executables[tool], raw, dataset_id,
                                             args.processes))
                    by_tool[tool] = (statistics.median(r[0] for r in runs),
                                     statistics.median(r[1] for r in runs))
                    rows.append({"dataset": dataset, "tool": tool, "wall_s": by_tool[tool][0],
                                 "peak_mib": by_tool[tool][1], "runs": runs})
                if len(by_tool) == 2:
                    rows.append({"dataset": dataset, "tool": "ratio",
                                 "wall_s": by_tool["samseg"][0] / by_tool["nnunet"][0],
                                 "peak_mib": by_tool["samseg"][1] / by_tool["nnunet"][1]})
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    machine = {"cpu": cpu_model(), "cores": os.cpu_count(),
               "memory_gib": round(psutil.virtual_memory().total / 2**30, 1)}
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; "
          f"-np {args.processes}, median of {args.repeats} run(s); "
          "target: ratio wall <= 0.5 and peak <= 1.0")
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "processes": args.processes,
                                         "repeats": args.repeats, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
